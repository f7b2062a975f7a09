"""Street Fighter III 3rd Strike (sfiii3n) as MAMEToolkit plays it.

The rules (round, stage and game ends, the stage count, damage rewards without the
health refill) are checked on made-up memory values, since no ROM is here; the tests of
the real game run only when ``$GYM_MAME_ROMPATH`` holds the ``sfiii3n`` set."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import gym_mame  # registers Mame/
from gym_mame.errors import RomNotFoundError
from gym_mame.integration import load
from gym_mame.runtime.roms import rom_set_present

FULL = 160  # MAMEToolkit's full health bar


def _frame(fighting=1, w1=0, w2=0, h1=FULL, h2=FULL) -> dict[str, int]:
    return {"fighting": fighting, "winsP1": w1, "winsP2": w2, "healthP1": h1, "healthP2": h2}


def _play(scenario_name: str, frames: list[dict[str, int]], player: int | None = None):
    """(reward, done, derived values) of each step after the first, per MAMEToolkit."""
    scenario = load("sfiii3n", scenario=scenario_name).scenario
    rules = scenario if player is None else scenario.players[2][player].scenario
    previous = scenario.start(frames[0])
    out = []
    for values in frames[1:]:
        full = scenario.derive(values, previous)
        out.append((rules.reward(full, previous), rules.done(full, previous), full))
        previous = full
    return out


# A round player 1 wins by KO, the refill, and the next round's first hit.
ROUND = [
    _frame(),
    _frame(h2=140),                      # player 1 lands 20
    _frame(h1=125, h2=140),              # player 1 takes 35
    _frame(h1=125, h2=-1),               # KO: 141 more (MAMEToolkit's health goes to -1)
    _frame(fighting=0, h1=125, h2=-1),   # the fight is over, the winner not yet counted
    _frame(fighting=0, w1=1, h1=125, h2=-1),   # round_done
    _frame(fighting=0, w1=1, h1=0, h2=0),      # the bars drain ...
    _frame(fighting=0, w1=1),                  # ... and refill: no reward either way
    _frame(w1=1),                              # "Fight!"
    _frame(w1=1, h2=150),                      # counted again
]


@pytest.mark.pure
def test_damage_dealt_minus_taken_without_the_refill() -> None:
    rewards = [r for r, _, _ in _play("scenario", ROUND)]
    assert rewards == [20, -35, 141, 0, 0, 0, 0, 0, 10]


@pytest.mark.pure
def test_round_stage_and_game_in_info() -> None:
    steps = _play("scenario", ROUND)
    assert [int(v["round_done"]) for _, _, v in steps] == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert not any(done for _, done, _ in steps)
    assert all(not v["stage_done"] and not v["game_done"] and v["stage"] == 1
               for _, _, v in steps)


@pytest.mark.pure
def test_stage_counts_player_one_wins_and_game_ends_on_player_two() -> None:
    frames = [_frame(), _frame(fighting=0, w1=1), _frame(w1=1), _frame(fighting=0, w1=2),
              _frame(fighting=0), _frame(), _frame(fighting=0, w2=1), _frame(w2=1),
              _frame(fighting=0, w2=2)]
    steps = _play("scenario", frames)
    assert [int(v["stage_done"]) for _, _, v in steps] == [0, 0, 1, 0, 0, 0, 0, 0]
    assert [v["stage"] for _, _, v in steps] == [1, 1, 2, 2, 2, 2, 2, 2]
    assert [int(v["game_done"]) for _, _, v in steps] == [0] * 7 + [1]
    assert [done for _, done, _ in steps] == [False] * 7 + [True]
    # the wins going back to 0 for the next stage is no round's end
    assert int(steps[3][2]["round_done"]) == 0
    # the round and stage scenarios end sooner
    assert [d for _, d, _ in _play("round", frames)][:1] == [True]
    assert [d for _, d, _ in _play("stage", frames)] == [False, False, True] + [False] * 4 + [True]


@pytest.mark.pure
def test_two_players_rewards_are_opposite_and_the_match_ends_both() -> None:
    frames = [*ROUND[:4], _frame(fighting=0, w1=1, h1=125, h2=-1), _frame(w1=1),
              _frame(fighting=0, w1=2)]
    first, second = _play("scenario", frames, 0), _play("scenario", frames, 1)
    assert [r for r, _, _ in first] == [-r for r, _, _ in second]
    assert [r for r, _, _ in first][:3] == [20, -35, 141]
    assert [d for _, d, _ in first] == [d for _, d, _ in second] == [False] * 5 + [True]


@pytest.mark.pure
def test_options_and_checks() -> None:
    game = load("sfiii3n")
    assert game.options["difficulty"].default == "3"
    assert sorted(game.options["difficulty"].values, key=int) == [str(d) for d in range(1, 9)]
    # MAMEToolkit: (d % 8) - 3 presses right, left when negative
    presses = {d: [s.press for s in game.options["difficulty"].values[d] if s.press]
               for d in ("1", "3", "7", "8")}
    assert presses == {"1": [("LEFT",)] * 2, "3": [], "7": [("RIGHT",)] * 4,
                       "8": [("LEFT",)] * 3}
    assert game.options["character"].values["left"][-1].press == ("LEFT", "JAB")
    assert game.boot[-1].until is not None and game.boot[-1].until.text == "fighting != 0"
    assert game.defaults["frameskip"] == 9  # MAMEToolkit: frame_ratio 3 x frames_per_step 3
    assert {what for what, _ in game.checks} >= {"the boot reaches the first fight",
                                                 "difficulty", "character", "two players"}


def test_without_the_rom_the_set_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GYM_MAME_ROMPATH", str(tmp_path))
    with pytest.raises(RomNotFoundError) as info:
        gym.make("Mame/sfiii3n-v0", rom_path=tmp_path, difficulty=8, character="right")
    assert "'sfiii3n'" in str(info.value) and str(tmp_path) in str(info.value)
    with pytest.raises(ValueError) as info:
        gym.make("Mame/sfiii3n-v0", rom_path=tmp_path, character="gill")
    assert "character" in str(info.value) and "left" in str(info.value)


# -- with the ROM ---------------------------------------------------------------------

ROMS = [Path(p) for p in os.environ.get("GYM_MAME_ROMPATH", "").split(os.pathsep) if p]
needs_rom = pytest.mark.skipif(
    not rom_set_present("sfiii3n", ROMS),
    reason="needs the sfiii3n ROM set (sfiii3n.zip) in a folder of $GYM_MAME_ROMPATH")


@needs_rom
def test_boot_reaches_a_fight_and_rewards_follow_damage() -> None:
    env = gym.make("Mame/sfiii3n-v0")
    try:
        _, info = env.reset(seed=0)
        assert info["fighting"] != 0
        assert 150 <= info["healthP1"] <= 176 and 150 <= info["healthP2"] <= 176
        assert info["winsP1"] == info["winsP2"] == 0 and info["stage"] == 1
        rng = np.random.default_rng(0)
        prev, seen_round = info, False
        for _ in range(3000):  # 27,000 frames: several rounds of random play
            _, reward, terminated, truncated, info = env.step(rng.integers(env.action_space.n))
            if prev["in_round"]:
                dealt = max(prev["healthP2"] - info["healthP2"], 0)
                taken = max(prev["healthP1"] - info["healthP1"], 0)
                assert reward == dealt - taken
                if dealt and not taken:
                    assert reward > 0
            if info["round_done"]:
                seen_round = True
                assert info["winsP1"] + info["winsP2"] > prev["winsP1"] + prev["winsP2"]
                assert bool(info["stage_done"]) == (info["winsP1"] == 2)
                assert bool(info["game_done"]) == (info["winsP2"] == 2)
            if terminated or truncated:
                assert info["game_done"]
                break
            prev = info
        assert seen_round
    finally:
        env.close()


@needs_rom
def test_two_players_fight_each_other() -> None:
    env = gym_mame.parallel_env("sfiii3n", 2)
    try:
        _, infos = env.reset(seed=0)
        assert infos["first_0"]["fighting"] != 0
        total = {"first_0": 0.0, "second_0": 0.0}
        for _ in range(500):
            actions = {a: env.action_space(a).sample() for a in env.agents}
            _, rewards, _, _, _ = env.step(actions)
            for a in rewards:
                total[a] += rewards[a]
            if not env.agents:
                break
        assert total["first_0"] == -total["second_0"]
    finally:
        env.close()

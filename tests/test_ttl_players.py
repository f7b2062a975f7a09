"""The TTL games with every player an agent, on real MAME (no ROM needed): Pong for two,
Pong Doubles for four, Rebound for two; and sfiii3n for two without its ROM."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import gym_mame
from gym_mame import RomNotFoundError

NOOP, UP_OR_LEFT, DOWN_OR_RIGHT = 0, 1, 2
FLOOR = slice(226, 236)  # Rebound's paddle rows in the 240-line observation

# game: (players, who tracks the ball, each paddle's columns in the observation (Rebound:
# each player's half of the floor), whether the paddles move vertically). The trackers
# are the players on the new inputs (pong's UP2/DOWN2, pongd's 2 and 4, rebound's 2).
GAMES = {
    "pong": (2, {"second_0"}, {"first_0": (56, 60), "second_0": (312, 315)}, True),
    "pongd": (4, {"second_0", "fourth_0"}, {"first_0": (312, 315), "second_0": (57, 60),
                                             "third_0": (249, 252), "fourth_0": (121, 124)},
              True),
    "rebound": (2, {"second_0"}, {"first_0": (0, 184), "second_0": (185, 388)}, False),
}


def _scenery(frame: np.ndarray, spans: dict, vertical: bool) -> np.ndarray:
    """What is not the ball: the paddles' columns (or the floor), and the boxes around
    what else is lit at the start (scores, net), where the ball is not yet."""
    lit = frame > 128
    mask = np.zeros_like(lit)
    if vertical:
        for lo, hi in spans.values():
            mask[:, lo:hi] = True
    else:
        mask[FLOOR] = True
    ys, xs = np.nonzero(lit & ~mask)
    cols = np.unique(xs)
    for group in np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1) if cols.size else []:
        rows = ys[np.isin(xs, group)]
        mask[max(rows.min() - 2, 0):rows.max() + 3, max(group[0] - 2, 0):group[-1] + 3] = True
    return mask


def _track(frame: np.ndarray, scenery: np.ndarray, span: tuple[int, int],
           vertical: bool) -> int:
    """Move the paddle toward the ball (UP/LEFT lower the row or column)."""
    lit = frame > 128
    ball = np.argwhere(lit & ~scenery)
    lo, hi = span
    paddle = (np.nonzero(lit[:, lo:hi].any(axis=1))[0] if vertical
              else np.nonzero(lit[FLOOR, lo:hi].any(axis=0))[0] + lo)
    if not len(ball) or not paddle.size:
        return NOOP
    gap = ball[:, 0 if vertical else 1].mean() - paddle.mean()
    return UP_OR_LEFT if gap < -3 else DOWN_OR_RIGHT if gap > 3 else NOOP


@pytest.mark.parametrize("game", list(GAMES))
def test_every_player_an_agent_and_a_game_won_by_tracking_the_ball(game: str) -> None:
    players, trackers, spans, vertical = GAMES[game]
    env = gym_mame.parallel_env(game, players, obs_type="grayscale", frameskip=4)
    try:
        parallel_api_test(env, num_cycles=10)
        assert len(env.possible_agents) == players
        env.max_cycles = 100_000  # the API test left its num_cycles there
        obs, _ = env.reset(seed=0)
        scenery = _scenery(obs["first_0"][..., 0], spans, vertical)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        steps = 0
        while env.agents and steps < 1500:
            frame = obs["first_0"][..., 0]
            actions = {a: _track(frame, scenery, spans[a], vertical) if a in trackers
                       else DOWN_OR_RIGHT if a == "third_0" else NOOP for a in env.agents}
            obs, rewards, terminations, truncations, _ = env.step(actions)
            steps += 1
            assert sum(rewards.values()) == 0 and set(rewards.values()) <= {-1.0, 0.0, 1.0}
            for a, r in rewards.items():  # a side's players share its score difference
                assert r == rewards["first_0"] * (1 if a in ("first_0", "third_0") else -1)
                totals[a] += r
        # the game's end (11 points) ended the episode for every player at once
        assert env.agents == [] and all(terminations.values()) and not any(truncations.values())
        won = totals[next(iter(trackers))]
        assert won >= 5, totals  # the trackers won clearly: the idle side barely scored
        for a, total in totals.items():
            assert total == (won if (a in ("first_0", "third_0")) == ("first_0" in trackers)
                             else -won)
        if game == "pongd":  # third_0 held DOWN: its (front right) paddle is at the bottom
            lo, hi = spans["third_0"]
            assert np.nonzero(obs["third_0"][:, lo:hi, 0].max(axis=1) > 128)[0].min() > 180
    finally:
        env.close()


def test_sfiii3n_for_two_without_the_rom_names_the_set(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GYM_MAME_ROMPATH", str(tmp_path))
    with pytest.raises(RomNotFoundError) as info:
        gym_mame.parallel_env("sfiii3n", 2, rom_path=tmp_path)
    assert "'sfiii3n'" in str(info.value) and str(tmp_path) in str(info.value)

"""The episode logic above the bridge, over a fake MAME (tests/fakemame): real ZeroMQ and the
real protocol, a machine of a few Python lines, so each test takes a fraction of a second.
What the fake's game does is in fakemame.py's docstring; its integration boots with an
`until` step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fakemame
import numpy as np
import pytest

from gym_mame import Emulator, MameEnv
from gym_mame.errors import BridgeError

pytestmark = pytest.mark.pure  # no MAME: the fake stands in for it

GAME = str(fakemame.GAME)
PLAY_FRAMES_PER_LIFE = 300


@pytest.fixture(scope="module")
def mame(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(fakemame.install(tmp_path_factory.mktemp("fakemame")))


@pytest.fixture
def env(mame: str) -> Iterator[MameEnv]:
    env = MameEnv(GAME, mame_path=mame, obs_type="ram", frameskip=4,
                  repeat_action_probability=0.0)
    yield env
    env.close()


def test_the_fake_speaks_the_protocol(mame: str) -> None:
    emu = Emulator(GAME, mame_path=mame)
    try:
        assert emu.description["system"] == "fakegame"
        emu.write_memory(":maincpu", "program", 0x80, bytes([7]))
        assert emu.read_memory(":maincpu", "program", 0x80, 2) == bytes([7, 0])
        emu.bridge.save_state("seven")
        emu.write_memory(":maincpu", "program", 0x80, bytes([9]))
        emu.bridge.load_state("seven")
        assert emu.read_memory(":maincpu", "program", 0x80, 1) == bytes([7])
        with pytest.raises(BridgeError, match="no save state 'nothing'"):
            emu.bridge._request(b"\x06" + len(b"nothing").to_bytes(2, "little") + b"nothing")
    finally:
        emu.close()


def test_reset_ends_the_boot_where_until_holds(env: MameEnv) -> None:
    _, info = env.reset(seed=0)
    # coin at frames 11-12, START at 18-19: the game starts on frame 18, and the `until`
    # step (up to 100 frames) stops at its first; the attract frames before count nothing
    assert info["started"] == 1
    assert info["frames_played"] < 10
    _, info_again = env.reset(seed=0)
    assert info_again == info


def test_rewards_are_the_score_and_the_game_ends_with_the_last_life(env: MameEnv) -> None:
    env.reset(seed=0)
    total, steps, lives = 0.0, 0, []
    while True:
        _, reward, terminated, truncated, info = env.step(1)  # RIGHT
        total += reward
        steps += 1
        lives.append(info["lives"])
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert info["over"] == 1 and info["lives"] == 0
    assert total == info["score"] == 255 // 16  # one point a multiple of 16, up to x=255
    assert abs(steps * 4 - 3 * PLAY_FRAMES_PER_LIFE) <= 4
    assert lives[0] == 3 and sorted(set(lives)) == [0, 1, 2, 3]


def test_max_episode_steps_truncates(mame: str) -> None:
    env = MameEnv(GAME, mame_path=mame, obs_type="ram", max_episode_steps=5,
                  repeat_action_probability=0.0)
    try:
        env.reset(seed=0)
        flags = [env.step(0)[3] for _ in range(5)]
        assert flags == [False] * 4 + [True]
    finally:
        env.close()


def test_sticky_actions_follow_the_seed(mame: str) -> None:
    def play(seed: int) -> list[int]:
        env = MameEnv(GAME, mame_path=mame, obs_type="ram", frameskip=1,
                      repeat_action_probability=0.5)
        try:
            env.reset(seed=seed)
            xs = []
            for t in range(40):
                xs.append(env.step(1 if t % 2 else 2)[4]["x"])  # RIGHT, LEFT in turn
            return xs
        finally:
            env.close()

    first, same, other = play(3), play(3), play(4)
    assert first == same
    assert first != other
    # without stickiness RIGHT/LEFT in turn would end at x 0 or 1; it drifts instead
    assert max(first) > 1


def test_the_observation_is_the_ram(env: MameEnv) -> None:
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.uint8 and obs.shape == (128,)
    for _ in range(3):
        obs, *_, info = env.step(1)
    assert obs[0] == info["x"] and obs[1] == info["score"] and obs[4] == 1


def test_an_action_outside_the_space_is_refused(env: MameEnv) -> None:
    env.reset(seed=0)
    with pytest.raises((ValueError, TypeError), match="action"):
        env.step(4)


def test_a_fake_that_dies_is_reported(mame: str, tmp_path: Path) -> None:
    env = MameEnv(GAME, mame_path=mame, obs_type="ram")
    try:
        env.reset(seed=0)
        env.unwrapped.emulator.bridge.proc.kill()
        with pytest.raises(Exception, match="MAME .*(killed|exited)"):
            env.step(0)
    finally:
        env.close()

"""Existing Atari pipelines on real gym_mame envs: Gymnasium's AtariPreprocessing and
Stable-Baselines3's AtariWrapper (NoopReset, MaxAndSkip, EpisodicLife, FireReset, clip)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import AtariPreprocessing

import gym_mame  # noqa: F401

ENV_ID = "Mame/a2600-breakout-v0"


def play_until(env, stop, seed: int = 0, limit: int = 3000):
    """Random play (FIRE often, so Breakout serves) until ``stop(info, terminated)``."""
    rng = np.random.default_rng(seed)
    for _ in range(limit):
        action = 1 if rng.random() < 0.3 else int(rng.integers(env.action_space.n))
        obs, reward, terminated, truncated, info = env.step(action)
        yield obs, reward, terminated, truncated, info
        if stop(info, terminated) or truncated:
            return
    raise AssertionError(f"no stop within {limit} steps")


def test_gymnasium_atari_preprocessing() -> None:
    base = gym.make(ENV_ID, frameskip=1)
    env = AtariPreprocessing(base, noop_max=10, frame_skip=4, screen_size=84,
                             terminal_on_life_loss=True, grayscale_obs=True)
    try:
        obs, info = env.reset(seed=3)
        assert obs.shape == (84, 84) and obs.dtype == np.uint8 and obs.any()
        assert env.observation_space.shape == (84, 84)
        start_frame = info["episode_frame_number"]
        steps = list(play_until(env, lambda info, terminated: terminated))
        # terminal_on_life_loss: the episode ends at the first lost life, game not over.
        assert steps[-1][2] and base.unwrapped.lives() == 4
        assert not base.unwrapped.game_over()
        # Four frames per step; the last step stops at the frame the life was lost.
        frames = steps[-1][4]["episode_frame_number"] - start_frame
        assert 4 * (len(steps) - 1) < frames <= 4 * len(steps)
        assert all(o.shape == (84, 84) for o, *_ in steps)
    finally:
        env.close()


def test_stable_baselines3_atari_wrapper() -> None:
    atari_wrappers = pytest.importorskip(
        "stable_baselines3.common.atari_wrappers",
        reason="stable-baselines3 is in the test extra; run scripts/setup")
    base = gym.make(ENV_ID, frameskip=1)
    env = atari_wrappers.AtariWrapper(base, noop_max=30, frame_skip=4, screen_size=84)
    try:
        # The wrapper chain found what it needs on our env.
        chain = []
        wrapper = env
        while isinstance(wrapper, gym.Wrapper):
            chain.append(type(wrapper).__name__)
            wrapper = wrapper.env
        for name in ("NoopResetEnv", "MaxAndSkipEnv", "EpisodicLifeEnv", "FireResetEnv",
                     "ClipRewardEnv"):
            assert name in chain
        obs, _ = env.reset(seed=1)
        assert obs.shape == (84, 84, 1) and obs.dtype == np.uint8
        lives_before = base.unwrapped.lives()
        steps = list(play_until(env, lambda info, terminated: terminated))
        rewards = {r for _, r, *_ in steps}
        assert rewards <= {0.0, 1.0}  # ClipRewardEnv: sign of the reward
        # EpisodicLifeEnv ends the episode at a life loss; the game goes on.
        assert base.unwrapped.lives() == lives_before - 1 > 0
        obs, _ = env.reset()  # a no-op step (plus FIRE), not a new game
        assert base.unwrapped.lives() == lives_before - 1
        assert obs.shape == (84, 84, 1)
    finally:
        env.close()


def test_full_action_space_ram_observation_and_meanings_match_ale() -> None:
    ale_env = pytest.importorskip("ale_py.env")
    env = gym.make("Mame/a2600-seaquest-v0", full_action_space=True, obs_type="ram")
    ale = ale_env.AtariEnv(game="seaquest", full_action_space=True, obs_type="ram")
    try:
        assert env.action_space == gym.spaces.Discrete(18)
        assert env.unwrapped.get_action_meanings() == ale.get_action_meanings()
        obs, _ = env.reset(seed=0)
        assert obs.shape == (128,) and obs.dtype == np.uint8
        assert env.observation_space == ale.observation_space
        obs, *_ = env.step(17)  # DOWNLEFTFIRE exists only in the full set
        assert np.array_equal(obs, env.unwrapped.ale.getRAM())
    finally:
        env.close()
        ale.close()


@pytest.mark.pure
def test_minimal_action_sets_match_ale_for_every_atari_game() -> None:
    ale_env = pytest.importorskip("ale_py.env")
    from gym_mame.agreement.ale import Ale
    from gym_mame.integration import load

    games = Ale().games()
    assert len(games) >= 50
    for game in games:
        ale = ale_env.AtariEnv(game=game)
        try:
            ours = [a.name for a in load(f"a2600-{game}").actions]
            assert ours == ale.get_action_meanings(), game
        finally:
            ale.close()

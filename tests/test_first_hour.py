"""A researcher's first hour: episodes that end, ALE's defaults on the Atari ids, and the
recipes people copy (Stable-Baselines3's make_atari_env, Gymnasium's AtariPreprocessing,
RLlib's Atari wrapper, the ``gym_mame:`` prefix in a fresh process), on real MAME."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import AtariPreprocessing

import gym_mame
from gym_mame import MameEnv

BREAKOUT, NOFRAMESKIP = "Mame/a2600-breakout-v0", "Mame/a2600-breakoutNoFrameskip-v0"


def frames_per_step(env: gym.Env, action: int = 0, steps: int = 3) -> float:
    base = env.unwrapped
    start = base._episode_frame
    for _ in range(steps):
        env.step(action)
    return (base._episode_frame - start) / steps


# -- episodes end ------------------------------------------------------------------------
def test_episodes_are_capped_in_frames_whatever_the_frameskip() -> None:
    for frameskip, steps in ((4, 100), (2, 200)):
        env = MameEnv("a2600-breakout", frameskip=frameskip, max_num_frames_per_episode=400)
        try:
            env.reset(seed=0)
            flags = [env.step(0)[3] for _ in range(steps)]  # NOOP never loses a ball
            assert flags[-1] and not any(flags[:-1])
        finally:
            env.close()


@pytest.mark.parametrize("env_id", [BREAKOUT, "Mame/pong-v0", NOFRAMESKIP])
def test_every_id_has_a_frame_cap(env_id: str) -> None:
    env = gym.make(env_id)
    try:
        assert env.unwrapped.max_num_frames_per_episode == 108_000
    finally:
        env.close()


def test_max_episode_steps_replaces_the_frame_cap() -> None:
    env = gym.make(BREAKOUT, max_episode_steps=30_000)  # past the 27,000 steps of 108,000 frames
    try:
        env.reset(seed=0)
        assert env.unwrapped.max_num_frames_per_episode is None  # the TimeLimit rules
    finally:
        env.close()
    env = MameEnv("a2600-breakout", max_episode_steps=5, max_num_frames_per_episode=8)
    try:
        env.reset(seed=0)
        assert [env.step(0)[3] for _ in range(5)] == [False] * 4 + [True]
    finally:
        env.close()
    env = MameEnv("a2600-breakout", max_num_frames_per_episode=None)
    try:
        assert env.max_num_frames_per_episode is None
    finally:
        env.close()


# -- ALE's defaults --------------------------------------------------------------------
def test_atari_ids_have_ale_v5_defaults_and_options_override_them() -> None:
    env = gym.make(BREAKOUT)
    try:
        base = env.unwrapped
        assert (base.frameskip, base.repeat_action_probability) == (4, 0.25)
        assert base.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    finally:
        env.close()
    env = gym.make(BREAKOUT, frameskip=2, repeat_action_probability=0.0)
    try:
        assert (env.unwrapped.frameskip, env.unwrapped.repeat_action_probability) == (2, 0.0)
    finally:
        env.close()
    env = gym.make("Mame/pong-v0")  # not an Atari game: no sticky actions by default
    try:
        assert env.unwrapped.repeat_action_probability == 0.0
    finally:
        env.close()


def test_noframeskip_ids_run_one_frame_a_step_without_sticky_actions() -> None:
    env = gym.make(NOFRAMESKIP)
    try:
        env.reset(seed=0)
        assert (env.unwrapped.frameskip, env.unwrapped.repeat_action_probability) == (1, 0.0)
        assert frames_per_step(env) == 1
    finally:
        env.close()


# -- the recipes as their docs give them ---------------------------------------------------
def test_stable_baselines3_make_atari_env() -> None:
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the NoFrameskip id: no double skip, no warning
        vec = VecFrameStack(make_atari_env(NOFRAMESKIP, n_envs=2, seed=0), n_stack=4)
        obs = vec.reset()
    try:
        assert obs.shape == (2, 84, 84, 4)
        first = [e.unwrapped._episode_frame for e in vec.venv.envs]
        for _ in range(3):
            obs, _, dones, _ = vec.step(np.array([1, 2]))
        assert not dones.any()
        later = [e.unwrapped._episode_frame for e in vec.venv.envs]
        assert [b - a for a, b in zip(first, later, strict=True)] == [12, 12]  # 4 frames a step
    finally:
        vec.close()
    with pytest.warns(UserWarning, match="frame skip applied twice.*16 frames an agent step.*"
                                         "a2600-breakoutNoFrameskip-v0"):
        vec = make_atari_env(BREAKOUT, n_envs=1, seed=0)
        vec.reset()
    vec.close()


def test_gymnasium_atari_preprocessing_recipes() -> None:
    for make in (lambda: gym.make(BREAKOUT, frameskip=1), lambda: gym.make(NOFRAMESKIP)):
        env = AtariPreprocessing(make(), frame_skip=4, screen_size=84, noop_max=10)
        try:
            obs, _ = env.reset(seed=0)
            assert obs.shape == (84, 84)
            assert frames_per_step(env, 1) == 4
        finally:
            env.close()
    with pytest.raises(ValueError, match="frame-skipping"):  # its own check sees ours
        AtariPreprocessing(gym.make(BREAKOUT), frame_skip=4)


def test_rllib_atari_wrapper_recipe() -> None:
    from ray.rllib.env.wrappers.atari_wrappers import wrap_atari_for_new_api_stack

    env = wrap_atari_for_new_api_stack(gym.make(NOFRAMESKIP), dim=64, framestack=4)
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (64, 64, 4) and obs.dtype == np.float32
        assert frames_per_step(env, 0) == 4
        assert env.unwrapped.max_num_frames_per_episode is None  # its TimeLimit rules
    finally:
        env.close()
    with pytest.warns(UserWarning, match="frame skip applied twice"):
        env = wrap_atari_for_new_api_stack(gym.make(BREAKOUT), dim=64)
        env.reset(seed=0)
    env.close()


def test_the_module_prefix_works_in_a_fresh_process() -> None:
    code = textwrap.dedent("""
        import gymnasium as gym
        env = gym.make("gym_mame:Mame/pong-v0"); env.reset(seed=0); env.close()
        vec = gym.make_vec("gym_mame:Mame/a2600-breakout-v0", num_envs=2)
        obs, _ = vec.reset(seed=0); vec.close()
        print(type(env.unwrapped).__name__, obs.shape)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "MameEnv" and "(2, 210, 160, 3)" in out.stdout
    assert gym_mame.__name__ == "gym_mame"

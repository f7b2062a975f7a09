"""Env-level clone_state / restore_state (and ale.cloneState / restoreState) on real MAMEs:
cloned at step k, played on, restored, the same actions give the same observations,
rewards, flags and infos (episode_frame_number included) as the first time."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

import gym_mame
from gym_mame.errors import SaveStateError

K, AFTER = 12, 15  # clone after K steps, then compare AFTER more


def play(env: gym.Env, actions: list[int]) -> list[tuple]:
    return [env.step(a) for a in actions]


def assert_same(first: list[tuple], again: list[tuple]) -> None:
    assert len(first) == len(again)
    for n, ((o1, r1, t1, u1, i1), (o2, r2, t2, u2, i2)) in enumerate(
            zip(first, again, strict=True)):
        assert np.array_equal(o1, o2), f"observation {n} differs"
        assert (r1, t1, u1) == (r2, t2, u2), n
        assert i1 == i2, (n, i1, i2)


def actions_for(env: gym.Env, seed: int, count: int) -> list[int]:
    env.action_space.seed(seed)
    return [int(env.action_space.sample()) for _ in range(count)]


def test_restore_replays_the_episode_with_sticky_actions_and_the_rng() -> None:
    # ALE v5's defaults: frameskip 4 and sticky actions 0.25, drawn from the env's generator
    env = gym.make("Mame/a2600-breakout-v0")
    try:
        env.reset(seed=3)
        actions = actions_for(env, 3, K + AFTER)
        play(env, actions[:K])
        lives, frame = env.unwrapped.lives(), env.unwrapped._episode_frame
        state = env.unwrapped.clone_state(include_rng=True)
        first = play(env, actions[K:])
        assert first[-1][4]["episode_frame_number"] == frame + AFTER * 4
        env.unwrapped.restore_state(state)
        assert env.unwrapped.lives() == lives
        again = play(env, actions[K:])
        assert_same(first, again)
        assert first[0][4]["episode_frame_number"] == frame + 4  # not counted on from AFTER
    finally:
        env.close()


def test_ale_clone_state_through_the_atari_shim_and_a_pickle_into_another_env() -> None:
    # One frame a step, RAM: the picture of the first frame after a load is partly MAME's
    # redraw (a save state holds no picture), so frameskip 1 compares RAM; the test above
    # compares pictures at frameskip 4.
    env = gym.make("Mame/a2600-breakoutNoFrameskip-v0", obs_type="ram",
                   render_mode="rgb_array")
    other = gym.make("Mame/a2600-breakoutNoFrameskip-v0", obs_type="ram")
    try:
        env.reset(seed=0)
        other.reset(seed=5)
        actions = actions_for(env, 0, K + AFTER)
        play(env, actions[:K])
        ale = env.unwrapped.ale
        state = ale.cloneState()
        screen = ale.getScreenRGB().copy()
        first = play(env, actions[K:])
        ale.restoreState(state)
        assert np.array_equal(ale.getScreenRGB(), screen)  # the screen of the clone
        assert_same(first, play(env, actions[K:]))
        # a clone pickles (the machine as its save-state bytes) and restores elsewhere
        other.unwrapped.restore_state(pickle.loads(pickle.dumps(state)))
        assert_same(first, play(other, actions[K:]))
    finally:
        env.close()
        other.close()


def test_clone_needs_an_episode_and_a_state_fits_only_its_game() -> None:
    env = gym_mame.MameEnv("a2600-breakout", obs_type="ram")
    other = gym_mame.MameEnv("a2600-pong", obs_type="ram")
    try:
        with pytest.raises(RuntimeError, match="reset"):
            env.clone_state()
        env.reset(seed=0)
        other.reset(seed=0)
        with pytest.raises(SaveStateError, match="a2600-breakout"):
            other.restore_state(env.clone_state())
        with pytest.raises(TypeError, match="clone_state"):
            env.restore_state(env.emulator.clone_state())
    finally:
        env.close()
        other.close()

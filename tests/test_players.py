"""Several players on real MAME: PettingZoo's API and seed tests, SuperSuit's Atari wrappers,
a single agent against NOOP or frozen opponents, and agreement with PettingZoo's Atari."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

import gym_mame
from gym_mame import MameEnv
from gym_mame.errors import IntegrationError

BOXING = {"game": "a2600-boxing", "num_players": 2, "obs_type": "ram", "frameskip": 4}


def test_pettingzoos_own_api_and_seed_tests() -> None:
    env = gym_mame.parallel_env(**BOXING)
    try:
        parallel_api_test(env, num_cycles=200)
        assert env.possible_agents == ["first_0", "second_0"]
        assert env.observation_space("first_0").shape == (128,)
    finally:
        env.close()
    env = gym_mame.aec_env(**BOXING)
    try:
        api_test(env, num_cycles=100)
    finally:
        env.close()
    seed_test(functools.partial(gym_mame.aec_env, **BOXING), num_cycles=100)
    parallel_seed_test(functools.partial(gym_mame.parallel_env, **BOXING), num_cycles=100)


def test_every_agent_sees_the_frame_and_render_works() -> None:
    env = gym_mame.parallel_env("a2600-boxing", 2, render_mode="rgb_array")
    try:
        obs, _infos = env.reset(seed=0)
        assert obs["first_0"].shape == (210, 160, 3) and np.array_equal(obs["first_0"],
                                                                       obs["second_0"])
        assert env.render().shape == (210, 160, 3)
        _, rewards, terminations, _truncations, _ = env.step({"first_0": 1, "second_0": 0})
        assert set(rewards) == {"first_0", "second_0"} and not any(terminations.values())
    finally:
        env.close()


def test_max_cycles_truncates_every_agent() -> None:
    env = gym_mame.parallel_env(**BOXING, max_cycles=5)
    try:
        env.reset(seed=0)
        for _ in range(5):
            _, _, _, truncations, _ = env.step({a: 0 for a in env.agents})
        assert all(truncations.values()) and env.agents == []
        with pytest.raises(RuntimeError, match="call reset"):
            env.step({})
    finally:
        env.close()


def test_supersuits_usual_atari_wrappers_run_on_it() -> None:
    import supersuit as ss

    env = gym_mame.parallel_env("a2600-boxing", 2, repeat_action_probability=0.0)
    env = ss.max_observation_v0(env, 2)
    env = ss.sticky_actions_v0(env, repeat_action_probability=0.25)
    env = ss.frame_skip_v0(env, 4)
    env = ss.color_reduction_v0(env, mode="full")
    env = ss.resize_v1(env, 84, 84)
    env = ss.frame_stack_v1(env, 4)
    try:
        obs, _ = env.reset(seed=0)
        assert obs["first_0"].shape == (84, 84, 4)
        for _ in range(5):
            obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert obs["second_0"].shape == (84, 84, 4)
    finally:
        env.close()


def test_one_agent_against_noop_or_a_frozen_policy() -> None:
    noop = MameEnv("a2600-boxing", num_players=2, obs_type="ram", repeat_action_probability=0.0)
    rng = np.random.default_rng(0)
    seen = []

    def policy(obs):  # a stand-in for a frozen copy of the agent's policy
        seen.append(obs)
        return int(rng.integers(18))

    punch = MameEnv("a2600-boxing", num_players=2, obs_type="ram", repeat_action_probability=0.0,
                    opponents=[policy])
    try:
        results = []
        for env in (noop, punch):
            env.reset(seed=0)
            total, terminated = 0.0, False
            while not terminated:
                _, reward, terminated, _, _ = env.step(0)  # the agent stands still
                total += reward
            results.append(total)
        assert results[0] == 0.0 and results[1] < 0  # only a moving opponent lands punches
        assert seen and seen[0].shape == (128,)  # it saw what the agent sees
    finally:
        noop.close(), punch.close()
    with pytest.raises(ValueError, match="opponent policies"):
        MameEnv("a2600-boxing", num_players=2, opponents=[None, None])
    with pytest.raises(IntegrationError, match="played by 1, 2 player"):
        MameEnv("a2600-boxing", num_players=4)


def test_boxing_agrees_with_pettingzoo() -> None:
    from gym_mame import pettingzoo_agreement as pz

    (row,) = pz.run(["boxing_v2"], episodes=3, max_steps=2500, seed=0)
    assert not row.problem and row.agrees, pz.markdown([row], 3, 2500, 0)

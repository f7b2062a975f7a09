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
    from gym_mame.agreement.pettingzoo import PettingZoo

    reference = PettingZoo()
    row = reference.compare("boxing_v2", episodes=1, max_steps=2500, seed=0)  # a whole game
    assert not row.problem and row.agrees, reference.markdown([row], 1, 2500, 0)


# PettingZoo's game of each cartridge, and the RAM byte that holds the game's number
GAME_BYTES = [
    ("joust_v3", "a2600-joust", 0xF8),
    ("mario_bros_v3", "a2600-mario_bros", 0x80),
    ("maze_craze_v3", "a2600-maze_craze", 0xBD),
    ("space_war_v2", "a2600-space_war", 0x84),
    ("video_checkers_v4", "a2600-video_checkers", 0xF6),
    ("wizard_of_wor_v3", "a2600-wizard_of_wor", 0x81),
]


@pytest.mark.parametrize(("name", "game", "address"), GAME_BYTES)
def test_boots_into_pettingzoos_game_with_its_action_sets(name: str, game: str,
                                                          address: int) -> None:
    from gym_mame.agreement.pettingzoo import PettingZoo, pettingzoo_env

    reference = pettingzoo_env(name)
    env = gym_mame.parallel_env(game, 2, obs_type="ram", frameskip=4)
    try:
        assert PettingZoo.players()[name] == (game, 2)
        expected, _ = reference.reset(seed=0)
        obs, _ = env.reset(seed=0)
        assert obs["first_0"][address - 0x80] == expected["first_0"][address - 0x80]
        assert [env.action_space(a).n for a in env.possible_agents] == \
            [reference.action_space(a).n for a in reference.possible_agents]
        rng = np.random.default_rng(0)
        for _ in range(50):  # the game runs: no agent is out in its first seconds
            actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
            _, rewards, terminations, _, _ = env.step(actions)
            assert set(rewards) == {"first_0", "second_0"} and not any(terminations.values())
    finally:
        reference.close()
        env.close()


def test_maze_craze_idle_players_are_both_caught() -> None:
    env = gym_mame.parallel_env("a2600-maze_craze", 2, obs_type="ram", frameskip=4)
    try:
        env.reset(seed=0)
        totals = {"first_0": 0.0, "second_0": 0.0}
        steps = 0
        while env.agents and steps < 2000:
            _, rewards, terminations, _, infos = env.step({a: 0 for a in env.agents})
            for agent, reward in rewards.items():
                totals[agent] += reward
            steps += 1
        assert env.agents == [] and all(terminations.values()), steps
        assert totals == {"first_0": -1.0, "second_0": -1.0}  # caught, nobody escaped
        assert {a: info["lives"] for a, info in infos.items()} == {"first_0": -1, "second_0": -1}
    finally:
        env.close()


def test_video_checkers_stall_penalty_falls_when_multi_agent_ales_does() -> None:
    from gym_mame.agreement.pettingzoo import pettingzoo_env

    penalties = []
    for env in (pettingzoo_env("video_checkers_v4"),
                gym_mame.parallel_env("a2600-video_checkers", 2, obs_type="ram", frameskip=4)):
        try:
            env.reset(seed=0)
            seen = []
            for step in range(320):  # both hold UPRIGHT: black never moves a piece
                _, rewards, _, _, _ = env.step(dict.fromkeys(env.agents, 1))
                seen += [(step, a) for a, r in rewards.items() if r == -1]
            penalties.append(seen)
        finally:
            env.close()
    (ref_first, ref_second), (first, second) = penalties
    assert first == ref_first and first[1] == "first_0"  # black, to move, stalled
    assert second[1] == "first_0" and abs(second[0] - ref_second[0]) <= 1


def test_a_players_own_action_set_may_lack_noop() -> None:
    env = MameEnv("a2600-wizard_of_wor", num_players=2, obs_type="ram")
    try:
        assert env.action_space.n == 9  # Multi-Agent ALE's set: FIRE first, no NOOP
        assert env.unwrapped.get_action_meanings()[:2] == ["FIRE", "UP"]
        env.reset(seed=0)
        env.step(0)  # the idle second player presses nothing
    finally:
        env.close()
    one = MameEnv("a2600-wizard_of_wor", obs_type="ram")
    try:
        assert one.unwrapped.get_action_meanings()[0] == "NOOP"  # alone: ALE's 10
    finally:
        one.close()

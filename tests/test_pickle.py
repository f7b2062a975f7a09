"""Envs pickle as their construction and unpickle into a fresh MAME (real MAMEs): pickle
and cloudpickle round trips of MameEnv, MameVectorEnv and the PettingZoo envs, an env fn
and an env sent to a ``spawn`` process, and PettingZoo's tutorial route into
Stable-Baselines3 (SuperSuit's ``concat_vec_envs_v1``, which cloudpickles the env) with a
few thousand PPO steps."""

from __future__ import annotations

import functools
import multiprocessing
import pickle

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest
from processes import alive

import gym_mame

BREAKOUT = "Mame/a2600-breakout-v0"


def mame_pid(env) -> int:
    return env.unwrapped.emulator.bridge.proc.pid


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads),
                                          (cloudpickle.dumps, cloudpickle.loads)])
def test_mame_env_round_trip_is_a_fresh_mame_with_the_options_and_the_rng(dumps, loads) -> None:
    env = gym.make(BREAKOUT, obs_type="ram", noop_max=30, max_episode_steps=40)
    copy = None
    try:
        env.reset(seed=7)
        copy = loads(dumps(env))
        assert mame_pid(copy) != mame_pid(env) and alive(mame_pid(copy))
        assert copy.spec.id == BREAKOUT and copy.unwrapped.obs_type == "ram"
        assert copy.unwrapped.noop_max == 30
        # the generator's state travelled: the next unseeded reset draws the same no-ops
        obs, info = env.reset()
        obs2, info2 = copy.reset()
        assert info2["episode_frame_number"] == info["episode_frame_number"]
        assert np.array_equal(obs, obs2)
        for _ in range(40):  # the step limit (TimeLimit) came along
            *_, truncated, _ = copy.step(0)
        assert truncated
    finally:
        env.close()
        if copy is not None:
            copy.close()


def test_vector_and_pettingzoo_envs_round_trip() -> None:
    made = []
    try:
        vector = gym.make_vec(BREAKOUT, num_envs=2, obs_type="ram")
        parallel = gym_mame.parallel_env("a2600-boxing", num_players=2, obs_type="ram")
        aec = gym_mame.aec_env("a2600-boxing", num_players=2, obs_type="ram")
        made += [vector, parallel, aec]
        vector2 = cloudpickle.loads(cloudpickle.dumps(vector))
        made.append(vector2)
        assert isinstance(vector2, gym_mame.MameVectorEnv) and vector2.num_envs == 2
        assert vector2.spec.id == BREAKOUT and vector2.get_attr("spec")[1].id == BREAKOUT
        obs, _ = vector2.reset(seed=0)
        assert np.array_equal(obs, vector.reset(seed=0)[0])
        parallel2 = pickle.loads(pickle.dumps(parallel))
        aec2 = pickle.loads(pickle.dumps(aec))
        made += [parallel2, aec2]
        assert mame_pid(parallel2.unwrapped) != mame_pid(parallel.unwrapped)
        observations, _ = parallel2.reset(seed=1)
        assert np.array_equal(observations["first_0"], parallel.reset(seed=1)[0]["first_0"])
        aec2.reset(seed=1)
        for agent in aec2.agent_iter(8):
            aec2.step(None if aec2.terminations[agent] or aec2.truncations[agent] else 0)
        assert aec2.unwrapped.emulator is not aec.unwrapped.emulator
    finally:
        for env in made:
            env.close()


def test_an_emulator_says_it_cannot_be_pickled() -> None:
    emulator = gym_mame.Emulator("a2600-breakout")
    try:
        with pytest.raises(TypeError, match="running MAME process.*pickle the env"):
            pickle.dumps(emulator)
    finally:
        emulator.close()


def play_in_child(env_or_fn, queue) -> None:
    env = env_or_fn() if callable(env_or_fn) and not isinstance(env_or_fn, gym.Env) \
        else env_or_fn
    obs, _ = env.reset(seed=3)
    queue.put((mame_pid(env), obs.tobytes()))
    env.close()


def test_spawned_processes_take_an_env_fn_and_an_env() -> None:
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    fn = functools.partial(gym.make, BREAKOUT, obs_type="ram")
    env = fn()
    try:
        expected = env.reset(seed=3)[0].tobytes()
        for what in (fn, env):
            child = spawn.Process(target=play_in_child, args=(what, queue))
            child.start()
            pid, obs = queue.get(timeout=60)
            child.join(30)
            assert child.exitcode == 0
            assert pid != mame_pid(env) and obs == expected
    finally:
        env.close()


def test_pettingzoo_tutorial_route_into_stable_baselines3_trains() -> None:
    supersuit = pytest.importorskip("supersuit")
    from stable_baselines3 import PPO

    # As PettingZoo's SB3 tutorial: agents as vector entries, then copies of the env
    # (SuperSuit cloudpickles it: each copy is a fresh MAME), as an SB3 VecEnv.
    # RAM and an MLP instead of the tutorial's frame preprocessing and CNN, to keep
    # the test short; the route through SuperSuit is the same.
    source = gym_mame.parallel_env("a2600-boxing", num_players=2, obs_type="ram")
    env = supersuit.pettingzoo_env_to_vec_env_v1(source)
    env = supersuit.concat_vec_envs_v1(env, 2, num_cpus=0, base_class="stable_baselines3")
    try:
        assert env.num_envs == 4  # 2 agents x 2 copies
        model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, n_epochs=1)
        before = [p.detach().clone() for p in model.policy.parameters()]
        model.learn(2048)
        assert model.num_timesteps >= 2048
        assert any(not np.array_equal(b.numpy(), p.detach().numpy())
                   for b, p in zip(before, model.policy.parameters(), strict=True))
    finally:
        env.close()
        source.close()

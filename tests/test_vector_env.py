"""The native vector env on real MAMEs: one thread, many MAMEs, exactly the single env's
observations, Gymnasium's autoreset modes and wrappers, EnvPool-style batches, restarts
instead of lost runs, Stable-Baselines3 and a CleanRL-style loop."""

from __future__ import annotations

import os
import signal
import threading
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import gym_mame
from gym_mame import MameEnv, MameVectorEnv
from gym_mame.errors import MameCrashedError

BREAKOUT = "Mame/a2600-breakout-v0"


def single_run(game: str, seed: int, actions, **kwargs):
    env = MameEnv(game, **kwargs)
    try:
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for a in actions:
            obs, _reward, terminated, truncated, _ = env.step(a)
            out.append(obs)
            if terminated or truncated:
                break
        return out
    finally:
        env.close()


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


def row(batch, i):
    return {k: v[i] for k, v in batch.items()} if isinstance(batch, dict) else batch[i]


def test_make_vec_returns_the_native_vector_env() -> None:
    envs = gym.make_vec(BREAKOUT, num_envs=2)
    try:
        assert isinstance(envs, MameVectorEnv)
        assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        obs, info = envs.reset(seed=0)
        assert obs.shape == (2, 210, 160, 3) and list(info["lives"]) == [5, 5]
        assert list(info["_lives"]) == [True, True]
    finally:
        envs.close()


@pytest.mark.parametrize("options", [
    {"obs_type": "rgb"},
    {"obs_type": "grayscale", "obs_size": (84, 84), "frameskip": 2},
    {"obs_type": "ram", "repeat_action_probability": 0.5, "noop_max": 20},
    {"obs_type": "dict", "action_type": "multi_binary"},
    {"obs_type": "ram", "full_action_space": True, "max_num_frames_per_episode": 60},
])
def test_sub_env_i_is_the_single_env_seeded_seed_plus_i(options) -> None:
    n, seed, steps = 3, 40, 25
    envs = MameVectorEnv("a2600-breakout", n, autoreset_mode="Disabled", **options)
    try:
        rng = np.random.default_rng(1)
        actions = [envs.action_space.sample() for _ in range(steps)]
        obs, _ = envs.reset(seed=seed)
        vec = [obs]
        for a in actions:
            obs, _, term, trunc, _ = envs.step(a)
            vec.append(obs)
            if (term | trunc).any():
                break
    finally:
        envs.close()
    del rng
    i = 2
    single = single_run("a2600-breakout", seed + i, [a[i] for a in actions], **options)
    assert len(single) == len(vec) or len(single) < len(vec)
    for k, expected in enumerate(single):
        assert same(row(vec[k], i), expected), f"step {k} differs"


def test_next_step_and_same_step_autoreset() -> None:
    for mode in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        envs = MameVectorEnv("a2600-breakout", 2, autoreset_mode=mode, obs_type="ram",
                             max_num_frames_per_episode=12)  # 3 steps an episode
        try:
            envs.reset(seed=0)
            truncs = []
            for _ in range(3):
                _, rewards, _, trunc, info = envs.step(np.array([0, 0]))
                truncs.append(trunc.copy())
            assert truncs[-1].all() and not np.any(truncs[:-1])
            if mode == AutoresetMode.SAME_STEP:
                assert info["_final_obs"].all() and info["final_obs"][0].shape == (128,)
                assert info["final_info"]["episode_frame_number"][0] == 15
                assert list(info["episode_frame_number"]) == [3, 3]  # already the next episode
            else:
                _obs, rewards, _term, trunc, info = envs.step(np.array([1, 1]))  # the reset
                assert list(info["episode_frame_number"]) == [3, 3] and not rewards.any()
        finally:
            envs.close()


def test_disabled_autoreset_with_a_reset_mask() -> None:
    envs = MameVectorEnv("a2600-breakout", 3, autoreset_mode="Disabled", obs_type="ram")
    try:
        envs.reset(seed=0)
        for _ in range(4):
            envs.step(np.array([1, 2, 3]))
        _obs, info = envs.reset(options={"reset_mask": np.array([False, True, False])})
        assert list(info["_episode_frame_number"]) == [False, True, False]
        assert info["episode_frame_number"][1] == 3
        _, _, _, _, info = envs.step(np.array([0, 0, 0]))
        assert list(info["episode_frame_number"]) == [23, 7, 23]
    finally:
        envs.close()


def test_gymnasium_vector_wrappers_run_on_it() -> None:
    from gymnasium.wrappers.vector import ClipReward, NormalizeObservation, RecordEpisodeStatistics

    envs = RecordEpisodeStatistics(ClipReward(NormalizeObservation(
        MameVectorEnv("a2600-breakout", 2, obs_type="ram", max_num_frames_per_episode=40)),
        min_reward=-1, max_reward=1))
    try:
        envs.reset(seed=0)
        episodes = 0
        for _ in range(12):
            _, _, _term, _trunc, info = envs.step(envs.action_space.sample())
            if "episode" in info:
                episodes += int(info["_episode"].sum())
                assert (info["episode"]["l"][info["_episode"]] == 10).all()
        assert episodes == 2
    finally:
        envs.close()


def test_render_gives_every_sub_envs_frame() -> None:
    envs = MameVectorEnv("pong", 2, render_mode="rgb_array")
    try:
        envs.reset(seed=0)
        frames = envs.render()
        assert len(frames) == 2 and frames[0].shape == (240, 320, 3)
    finally:
        envs.close()


def test_envpool_style_batches() -> None:
    envs = MameVectorEnv("a2600-breakout", 4, batch_size=2, obs_type="ram")
    try:
        assert envs.observation_space.shape == (2, 128)
        envs.async_reset(seed=0)
        seen = set()
        for _ in range(12):
            obs, _rewards, _term, _trunc, info = envs.recv()
            ids = info["env_id"]
            assert obs.shape == (2, 128) and len(set(ids)) == 2 and len(info["lives"]) == 2
            seen |= set(ids.tolist())
            envs.send(np.array([1, 2]), ids)
        assert seen == {0, 1, 2, 3}
        with pytest.raises(RuntimeError, match="still running"):
            envs.send(np.array([0, 0]), list(envs._pending)[:2])
    finally:
        envs.close()


def mame_pid(envs: MameVectorEnv, i: int) -> int:
    return envs.envs[i].emulator.bridge.proc.pid


@pytest.mark.parametrize("fault", [signal.SIGKILL, signal.SIGSTOP])
def test_a_failed_mame_costs_one_truncated_episode(fault) -> None:
    envs = MameVectorEnv("a2600-breakout", 3, obs_type="ram", timeout=2)
    try:
        envs.reset(seed=0)
        for _ in range(3):
            envs.step(np.array([1, 1, 1]))
        before = [env.emulator.bridge for env in envs.envs]
        victim = mame_pid(envs, 1)
        os.kill(victim, fault)
        with pytest.warns(UserWarning, match="sub-env 1 .* a fresh MAME takes its place"):
            _obs, _rewards, _term, trunc, info = envs.step(np.array([2, 2, 2]))
        assert list(trunc) == [False, True, False]
        assert info["mame_restarted"][1] and list(info["_mame_restarted"]) == [False, True, False]
        bridges = [env.emulator.bridge for env in envs.envs]
        assert bridges[0] is before[0] and bridges[2] is before[2]
        assert bridges[1] is not before[1]
        for _ in range(3):
            envs.step(np.array([0, 0, 0]))
        time.sleep(0.2)
        assert not os.path.exists(f"/proc/{victim}") or open(f"/proc/{victim}/stat").read(
            ).rsplit(")", 1)[1].split()[0] == "Z"
    finally:
        envs.close()


def test_a_restart_does_not_stall_the_other_sub_envs() -> None:
    """While a fresh MAME is on its way (held here until released), the batches go on
    with the other sub-env; the restarted one arrives later, truncated."""
    envs = MameVectorEnv("a2600-breakout", 2, batch_size=1, obs_type="ram")
    gate = threading.Event()
    fresh = envs._fresh_env

    def held_fresh_env():
        gate.wait(120)
        return fresh()

    envs._fresh_env = held_fresh_env  # what the restart thread runs
    try:
        envs.async_reset(seed=0)
        assert {int(envs.recv()[4]["env_id"][0]) for _ in range(2)} == {0, 1}
        victim = envs.envs[0].emulator.bridge.proc
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        with pytest.warns(UserWarning, match="sub-env 0 .* a fresh MAME takes its place"):
            envs.send(np.array([1, 1]), [0, 1])
            for _ in range(5):  # sub-env 0's MAME is not there yet: 1 goes on alone
                _, _, _, trunc, info = envs.recv()
                assert list(info["env_id"]) == [1] and not trunc[0]
                envs.send(np.array([1]), [1])
        gate.set()
        arrivals = []
        for _ in range(200):
            _, _, _, trunc, info = envs.recv()
            arrivals.append(int(info["env_id"][0]))
            if arrivals[-1] == 0:
                assert trunc[0] and info["mame_restarted"][0]
                break
            envs.send(np.array([1]), [1])
        assert arrivals[-1] == 0
    finally:
        gate.set()
        envs.close()


def test_a_sub_env_that_keeps_failing_raises() -> None:
    envs = MameVectorEnv("a2600-breakout", 2, obs_type="ram", max_restarts=2)
    try:
        envs.reset(seed=0)
        with pytest.warns(UserWarning):
            os.kill(mame_pid(envs, 0), signal.SIGKILL)
            envs.step(np.array([0, 0]))
        os.kill(mame_pid(envs, 0), signal.SIGKILL)
        with pytest.raises(MameCrashedError, match="sub-env 0 of a2600-breakout failed 2 times"):
            envs.step(np.array([0, 0]))
    finally:
        envs.close()


def test_stable_baselines3_ppo_trains_on_it() -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from gym_mame.sb3 import MameVecEnv

    env = VecMonitor(MameVecEnv("a2600-breakout", n_envs=2, obs_type="ram",
                                max_num_frames_per_episode=400))
    try:
        model = PPO("MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0,
                    policy_kwargs={"net_arch": [32]}, device="cpu")
        before = [p.detach().clone() for p in model.policy.parameters()]
        model.learn(2048)
        after = list(model.policy.parameters())
        assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
        episodes = list(model.ep_info_buffer)
        assert episodes and all(e["l"] == 100 for e in episodes)  # 400 frames / frameskip 4
    finally:
        env.close()


def test_a_cleanrl_style_loop() -> None:
    """PPO as CleanRL writes it, top to bottom, on the vector env (few steps)."""
    envs = gym.make_vec("Mame/a2600-breakout-v0", num_envs=2, obs_type="ram",
                        vectorization_mode="vector_entry_point")
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    n_actions = envs.single_action_space.n
    agent = torch.nn.Sequential(torch.nn.Linear(128, 32), torch.nn.Tanh(),
                                torch.nn.Linear(32, n_actions + 1))
    optimizer = torch.optim.Adam(agent.parameters(), lr=2.5e-4)
    steps, gamma = 32, 0.99
    obs_buf = torch.zeros((steps, 2, 128))
    act_buf, logp_buf = torch.zeros((steps, 2)), torch.zeros((steps, 2))
    rew_buf, done_buf, val_buf = (torch.zeros((steps, 2)) for _ in range(3))
    try:
        next_obs = torch.tensor(envs.reset(seed=0)[0], dtype=torch.float32) / 255
        next_done = torch.zeros(2)
        for _update in range(3):
            for t in range(steps):
                obs_buf[t], done_buf[t] = next_obs, next_done
                with torch.no_grad():
                    out = agent(next_obs)
                    dist = torch.distributions.Categorical(logits=out[:, :n_actions])
                    action = dist.sample()
                act_buf[t], logp_buf[t], val_buf[t] = action, dist.log_prob(action), out[:, -1]
                obs, reward, term, trunc, _ = envs.step(action.numpy())
                rew_buf[t] = torch.tensor(reward, dtype=torch.float32)
                next_obs = torch.tensor(obs, dtype=torch.float32) / 255
                next_done = torch.tensor(term | trunc, dtype=torch.float32)
            returns = torch.zeros_like(rew_buf)
            running = agent(next_obs)[:, -1].detach()
            for t in reversed(range(steps)):
                running = rew_buf[t] + gamma * running * (1 - done_buf[t])
                returns[t] = running
            out = agent(obs_buf.reshape(-1, 128))
            dist = torch.distributions.Categorical(logits=out[:, :n_actions])
            advantage = (returns.reshape(-1) - val_buf.reshape(-1))
            ratio = (dist.log_prob(act_buf.reshape(-1)) - logp_buf.reshape(-1)).exp()
            loss = (-(ratio * advantage).mean() + 0.5 * ((out[:, -1] - returns.reshape(-1)) ** 2)
                    .mean() - 0.01 * dist.entropy().mean())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            assert torch.isfinite(loss)
    finally:
        envs.close()
    assert gym_mame.MameVectorEnv is MameVectorEnv

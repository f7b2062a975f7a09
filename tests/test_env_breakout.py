"""MameEnv end to end on Atari 2600 Breakout (cartridge from ale-py) in real MAME."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gym_mame
from gym_mame.errors import RomNotFoundError

ENV_ID = "Mame/a2600-breakout-v0"
FIRE, RIGHT, LEFT = 1, 2, 3


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    yield env
    env.close()


def play(env, actions, seed=0):
    obs, _ = env.reset(seed=seed)
    frames, rewards, infos = [obs], [], []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        frames.append(obs)
        rewards.append(r)
        infos.append(info)
        if term or trunc:
            break
    return frames, rewards, infos


def test_check_env_passes(env) -> None:
    check_env(env.unwrapped, skip_render_check=False)


def test_spaces_and_ale_surface(env) -> None:
    assert env.observation_space.shape == (210, 160, 3)
    assert env.action_space == gym.spaces.Discrete(4)
    assert env.unwrapped.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    _obs, info = env.reset(seed=1)
    assert info["lives"] == 5 and info["score"] == 0
    assert env.unwrapped.lives() == 5
    assert env.render().shape == (210, 160, 3)
    assert env.unwrapped.get_ram().shape == (128,)
    assert env.unwrapped.get_ram()[0x39] == 5  # lives byte at 0xB9


def test_same_seed_same_actions_same_observations(env) -> None:
    rng = np.random.default_rng(7)
    actions = rng.integers(0, 4, 60)
    a, ra, _ = play(env, actions, seed=3)
    b, rb, _ = play(env, actions, seed=3)
    assert len(a) == len(b)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert ra == rb
    assert not np.array_equal(a[0], a[-1])  # the game did move


def test_playing_scores_and_losing_all_lives_ends_the_episode(env) -> None:
    """Serve and track the ball: points give reward; losing five balls terminates."""
    _, info = env.reset(seed=0)
    total, lives_seen, steps = 0.0, {info["lives"]}, 0
    rng = np.random.default_rng(0)
    terminated = False
    while not terminated and steps < 3000:
        action = FIRE if steps % 20 == 0 else int(rng.choice([RIGHT, LEFT, 0]))
        _obs, reward, terminated, _truncated, info = env.step(action)
        total += reward
        lives_seen.add(info["lives"])
        steps += 1
        assert reward == 0 or reward > 0  # Breakout has no negative rewards
    assert terminated and info["lives"] == 0
    assert lives_seen == {0, 1, 2, 3, 4, 5}
    assert total == info["score"]  # reward is the score delta


def test_action_outside_space_is_a_clear_error(env) -> None:
    env.reset(seed=0)
    for bad in (4, -1, 1.5, "FIRE"):
        with pytest.raises(ValueError, match="outside the action space"):
            env.step(bad)


def test_step_before_reset_is_an_error() -> None:
    env = gym.make(ENV_ID)
    try:
        with pytest.raises((RuntimeError, gym.error.ResetNeeded)):
            env.step(0)
    finally:
        env.close()


@pytest.mark.parametrize(
    ("obs_type", "check"),
    [
        ("grayscale", lambda o, s: o.shape == (210, 160, 1) and o.dtype == np.uint8),
        ("ram", lambda o, s: o.shape == (128,) and o[0x39] == 5),
        ("dict", lambda o, s: o["frame"].shape == (210, 160, 3) and o["lives"][0] == 5
         and set(o) == {"frame", "score_low", "score_hundreds", "lives_byte", "score", "started",
                        "lives"}),
    ],
)
def test_observation_types(obs_type, check) -> None:
    env = gym.make(ENV_ID, obs_type=obs_type)
    try:
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert check(obs, env.observation_space)
        obs, *_ = env.step(1)
        assert env.observation_space.contains(obs)
    finally:
        env.close()


def test_obs_size_resizes() -> None:
    env = gym.make(ENV_ID, obs_type="grayscale", obs_size=(84, 84))
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84, 1) and env.observation_space.shape == (84, 84, 1)
    finally:
        env.close()


@pytest.mark.parametrize(
    ("action_type", "space", "fire"),
    [
        ("multi_binary", gym.spaces.MultiBinary(3), np.array([1, 0, 0])),
        ("multi_discrete", gym.spaces.MultiDiscrete([2, 2, 2]), np.array([1, 0, 0])),
    ],
)
def test_action_types(action_type, space, fire) -> None:
    env = gym.make(ENV_ID, action_type=action_type)
    try:
        assert env.action_space == space
        env.reset(seed=0)
        # Serving with FIRE and then waiting must launch the ball the same way as Discrete FIRE.
        for _ in range(3):
            env.step(fire)
        ram_a = env.unwrapped.get_ram()
    finally:
        env.close()
    ref = gym.make(ENV_ID)
    try:
        ref.reset(seed=0)
        for _ in range(3):
            ref.step(FIRE)
        assert np.array_equal(ram_a, ref.unwrapped.get_ram())
    finally:
        ref.close()


def test_frameskip_counts_frames() -> None:
    env = gym.make(ENV_ID, frameskip=2)
    try:
        _, info0 = env.reset(seed=0)
        _, _, _, _, info1 = env.step(0)
        assert info1["episode_frame_number"] - info0["episode_frame_number"] == 2
    finally:
        env.close()


def test_sticky_actions_are_seeded() -> None:
    def run(seed):
        env = gym.make(ENV_ID, repeat_action_probability=0.5, obs_type="ram")
        try:
            obs, _ = env.reset(seed=seed)
            out = [obs]
            for a in [1, 2, 2, 3, 3, 2, 3, 0, 2, 2, 3, 3] * 4:
                out.append(env.step(a)[0])
            return np.array(out)
        finally:
            env.close()

    plain = gym.make(ENV_ID, obs_type="ram")
    try:
        obs, _ = plain.reset(seed=0)
        ref = [obs] + [plain.step(a)[0] for a in [1, 2, 2, 3, 3, 2, 3, 0, 2, 2, 3, 3] * 4]
    finally:
        plain.close()
    a, b = run(11), run(11)
    assert np.array_equal(a, b)  # same seed, same result
    assert not np.array_equal(a, np.array(ref))  # stickiness changed the trajectory


def test_noop_starts_vary_with_seed() -> None:
    env = gym.make(ENV_ID, noop_max=30, obs_type="ram")
    try:
        starts = {env.reset(seed=s)[1]["episode_frame_number"] for s in range(6)}
        assert len(starts) > 1
        assert env.reset(seed=4)[1] == env.reset(seed=4)[1]
    finally:
        env.close()


def test_max_episode_steps_truncates() -> None:
    env = gym.make(ENV_ID, max_episode_steps=5)
    try:
        env.reset(seed=0)
        flags = [env.step(0)[3] for _ in range(5)]
        assert flags == [False] * 4 + [True]
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(mode: str) -> None:
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode=mode)
    try:
        obs, info = envs.reset(seed=[0, 1])
        assert obs.shape == (2, 210, 160, 3)
        for _ in range(5):
            obs, rewards, _term, _trunc, info = envs.step(np.array([1, 2]))
        assert obs.shape == (2, 210, 160, 3) and rewards.shape == (2,)
        assert list(info["lives"]) == [5, 5]
    finally:
        envs.close()


def test_wrong_cartridge_is_rejected(tmp_path, integration_copy) -> None:
    import json

    folder = integration_copy("a2600-breakout")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["cartridge"] = {"slot": "cart", "file": "breakout.bin", "md5": "0" * 32}
    (folder / "metadata.json").write_text(json.dumps(meta))
    roms = tmp_path / "roms"
    roms.mkdir()
    (roms / "breakout.bin").write_bytes(b"\0" * 2048)
    with pytest.raises(RomNotFoundError, match="not the expected dump"):
        gym_mame.MameEnv(str(folder), rom_path=roms)
    meta["cartridge"]["file"] = "missing.bin"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(RomNotFoundError, match="missing.bin was not found.*rom_path"):
        gym_mame.MameEnv(str(folder), rom_path=roms)

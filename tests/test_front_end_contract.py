"""The front ends' contract (real MAME): MameEnv, the PettingZoo parallel env (one player)
and a MameVectorEnv sub-env stand on one play core, so the same seed and actions give
the same observations, rewards, terminations, truncations and info values in each; and
every MameEnv option works in the PettingZoo env."""

from __future__ import annotations

from typing import Any

import numpy as np

import gym_mame
from gym_mame import MameEnv, MameVectorEnv

GAME = "a2600-breakout"  # rules read every frame; lives in info
# sticky actions and no-ops draw from the seeded generator; the step limit truncates
OPTIONS: dict[str, Any] = {"obs_type": "dict", "frameskip": 4, "repeat_action_probability": 0.25,
                           "noop_max": 8, "max_episode_steps": 25}
SEED = 7
ACTIONS = [int(a) for a in np.random.default_rng(0).integers(4, size=25)]
Row = tuple[Any, float, bool, bool, dict[str, Any]]


def play_single() -> list[Row]:
    with MameEnv(GAME, **OPTIONS) as env:
        obs, info = env.reset(seed=SEED)
        rows: list[Row] = [(obs, 0.0, False, False, info)]
        for action in ACTIONS:
            rows.append(env.step(action))
            if rows[-1][2] or rows[-1][3]:
                break
    return rows


def play_parallel() -> list[Row]:
    env = gym_mame.parallel_env(GAME, 1, **OPTIONS)
    try:
        obs, infos = env.reset(seed=SEED)
        rows: list[Row] = [(obs["first_0"], 0.0, False, False, infos["first_0"])]
        for action in ACTIONS:
            if not env.agents:
                break
            obs, rewards, terms, truncs, infos = env.step({"first_0": action})
            rows.append((obs["first_0"], rewards["first_0"], terms["first_0"],
                         truncs["first_0"], infos["first_0"]))
    finally:
        env.close()
    return rows


def play_vector() -> list[Row]:
    envs = MameVectorEnv(GAME, 1, autoreset_mode="Disabled", **OPTIONS)
    try:
        obs, info = envs.reset(seed=SEED)
        rows: list[Row] = [(first(obs), 0.0, False, False, first(info))]
        for action in ACTIONS:
            obs, reward, term, trunc, info = envs.step(np.array([action]))
            rows.append((first(obs), float(reward[0]), bool(term[0]), bool(trunc[0]),
                         first(info)))
            if term[0] or trunc[0]:
                break
    finally:
        envs.close()
    return rows


def first(batch: Any) -> Any:
    """Sub-env 0's part of a batch (an info's keys only where its mask says so)."""
    if isinstance(batch, dict):
        return {k: first(v) for k, v in batch.items()
                if not k.startswith("_") and batch.get(f"_{k}", [True])[0]}
    return batch[0]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(np.array_equal(np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)))


def test_one_seed_and_one_set_of_actions_play_alike_through_every_front_end() -> None:
    single, parallel, vector = play_single(), play_parallel(), play_vector()
    assert len(single) == 26 and single[-1][3], "the step limit truncates the 25th step"
    assert single[0][4]["lives"] == 5 and "episode_frame_number" in single[-1][4]
    for k, (s, p, v) in enumerate(zip(single, parallel, vector, strict=True)):
        for field, (a, b, c) in enumerate(zip(s, p, v, strict=True)):
            if field == 4:  # info: the vector env's also names the sub-env
                assert c.pop("env_id") == 0 and same(a, b) and same(a, c), \
                    f"step {k}: info {a} != {b} or {c}"
            else:
                assert same(a, b) and same(a, c), f"step {k}: field {field} differs"


def test_every_mameenv_option_works_in_the_pettingzoo_env() -> None:
    """``state``, ``max_episode_steps`` and ``opponents`` were once taken for game options
    there (TypeError); with the options object they are the env's."""
    seen = []

    def opponent(obs: Any) -> int:
        seen.append(obs)
        return 1

    env = gym_mame.parallel_env("a2600-boxing", 2, obs_type="ram", opponents=[opponent],
                                repeat_action_probability=0.5, noop_max=3,
                                max_episode_steps=3)
    try:
        assert env.possible_agents == ["first_0"] and env.max_cycles == 3
        env.reset(seed=0)
        steps = 0
        while env.agents:
            _, _, _, truncations, _ = env.step({"first_0": 0})
            steps += 1
        assert steps == 3 and truncations == {"first_0": True}
        assert len(seen) == 3 and seen[0].shape == (128,)  # the policy played player 2
    finally:
        env.close()
    env = gym_mame.parallel_env("a2600-breakout", 1, state="start", obs_size=(84, 84),
                                obs_type="grayscale", max_cycles=None,
                                max_num_frames_per_episode=8, frameskip=4,
                                action_type="multi_binary", rebuild_start_state=True)
    try:
        obs, infos = env.reset(seed=0)
        assert obs["first_0"].shape == (84, 84, 1) and infos["first_0"]["lives"] == 5
        env.step({"first_0": env.action_space("first_0").sample()})
        _, _, _, truncations, _ = env.step({"first_0": np.zeros(3, np.int8)})
        assert truncations == {"first_0": True} and env.agents == []  # 2 steps of 4 frames
    finally:
        env.close()

"""Contract tests: the same seed and inputs through every front end (MameEnv, a MameVectorEnv
sub-env, the PettingZoo parallel and AEC envs) give the same observations, rewards,
terminations, truncations and info values. Over the fake MAME (tests/fakemame), whose
integration boots with an `until` step and ends its game within 900 frames, so that whole
episodes, resets after the end and truncation are compared, in seconds."""

from __future__ import annotations

from typing import Any

import fakemame
import numpy as np
import pytest

import gym_mame
from gym_mame import MameEnv, MameVectorEnv

pytestmark = pytest.mark.pure  # no MAME: the fake stands in for it

GAME = str(fakemame.GAME)
SEED = 11
STEPS = 300  # past a game's end (about 225 steps at frameskip 4), then a reset
OPTIONS: dict[str, Any] = {"obs_type": "ram", "frameskip": 4, "repeat_action_probability": 0.25}
# Played to the game's end, and cut short by max_episode_steps.
ENDS = {"terminated": {"max_episode_steps": None}, "truncated": {"max_episode_steps": 150}}


@pytest.fixture(scope="module")
def mame(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(fakemame.install(tmp_path_factory.mktemp("fakemame")))


def moves(count: int) -> list[int]:
    """RIGHT most of the time (the score goes up), with some LEFT, FIRE and no-ops."""
    rng = np.random.default_rng(0)
    return [int(a) for a in rng.choice(4, size=count, p=[0.1, 0.6, 0.2, 0.1])]


Record = list[tuple[np.ndarray, float, bool, bool, dict[str, Any]]]


def play_env(mame: str, options: dict[str, Any], actions: list[int]) -> Record:
    env = MameEnv(GAME, mame_path=mame, **options)
    try:
        obs, info = env.reset(seed=SEED)
        seen: Record = [(obs, 0.0, False, False, info)]
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            seen.append((obs, float(reward), terminated, truncated, info))
            if terminated or truncated:
                obs, info = env.reset()
                seen.append((obs, 0.0, False, False, info))
        return seen
    finally:
        env.close()


def play_vector(mame: str, options: dict[str, Any], actions: list[int]) -> Record:
    """Sub-env 0 of two, in next-step autoreset mode: the step after an episode's end is
    its reset, which is where MameEnv's record has one."""
    envs = MameVectorEnv(GAME, num_envs=2, mame_path=mame, **options)
    try:
        obs, info = envs.reset(seed=SEED)
        seen: Record = [(obs[0], 0.0, False, False, sub_info(info, 0))]
        ended = False
        queue = list(actions)
        while queue:
            action = 0 if ended else queue.pop(0)
            obs, reward, terminated, truncated, info = envs.step(np.array([action, 0]))
            seen.append((obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]),
                         sub_info(info, 0)))
            ended = bool(terminated[0] or truncated[0])
        if ended:
            obs, *_, info = envs.step(np.array([0, 0]))
            seen.append((obs[0], 0.0, False, False, sub_info(info, 0)))
        return seen
    finally:
        envs.close()


def sub_info(info: dict[str, Any], i: int) -> dict[str, Any]:
    return {k: v[i] for k, v in info.items() if not k.startswith("_") and k != "env_id"
            and info.get(f"_{k}", np.ones(i + 1, bool))[i]}


def play_parallel(mame: str, options: dict[str, Any], actions: list[int]) -> Record:
    env = gym_mame.parallel_env(GAME, num_players=1, mame_path=mame, **options)
    try:
        (agent,) = env.possible_agents
        obs, infos = env.reset(seed=SEED)
        seen: Record = [(obs[agent], 0.0, False, False, infos[agent])]
        for action in actions:
            obs, rewards, terms, truncs, infos = env.step({agent: action})
            seen.append((obs[agent], float(rewards[agent]), terms[agent], truncs[agent],
                         infos[agent]))
            if terms[agent] or truncs[agent]:
                obs, infos = env.reset()
                seen.append((obs[agent], 0.0, False, False, infos[agent]))
        return seen
    finally:
        env.close()


def assert_same(expected: Record, got: Record, front_end: str) -> None:
    assert len(got) == len(expected), front_end
    for t, (want, have) in enumerate(zip(expected, got, strict=True)):
        w_obs, w_reward, w_term, w_trunc, w_info = want
        h_obs, h_reward, h_term, h_trunc, h_info = have
        where = f"{front_end}, record {t}"
        assert np.array_equal(w_obs, h_obs), where
        assert (w_reward, w_term, w_trunc) == (h_reward, h_term, h_trunc), where
        assert {k: np.asarray(v).tolist() for k, v in w_info.items()} == \
            {k: np.asarray(v).tolist() for k, v in h_info.items()}, where


@pytest.fixture(scope="module", params=list(ENDS))
def case(request: pytest.FixtureRequest, mame: str) -> tuple[dict[str, Any], Record]:
    """The options of one way to end and MameEnv's record under them."""
    options = {**OPTIONS, **ENDS[request.param]}
    seen = play_env(mame, options, moves(STEPS))
    ends = {(term, trunc) for _, _, term, trunc, _ in seen if term or trunc}
    assert ends == {(request.param == "terminated", request.param == "truncated")}, ends
    assert sum(r for _, r, *_ in seen) > 10
    return options, seen


def test_a_vector_sub_env_plays_as_the_env(mame: str, case: tuple[dict, Record]) -> None:
    options, reference = case
    assert_same(reference, play_vector(mame, options, moves(STEPS)), "MameVectorEnv sub-env 0")


def test_the_pettingzoo_parallel_env_plays_as_the_env(mame: str,
                                                     case: tuple[dict, Record]) -> None:
    options, reference = case
    assert_same(reference, play_parallel(mame, options, moves(STEPS)), "parallel_env")


def test_the_studio_session_plays_as_the_env(mame: str) -> None:
    """The studio's Session holds an action's inputs for the env's frameskip: each step's
    reward, end, values and RAM are the env's (no sticky actions: the studio has none)."""
    from gym_mame.studio.session import Session

    session = Session(GAME, mame_path=mame)
    env = MameEnv(GAME, mame_path=mame, obs_type="ram", frameskip=4,
                  repeat_action_probability=0.0)
    try:
        _, info = env.reset(seed=SEED)
        assert session.values == without_frame_number(info)
        buttons = [list(action.buttons) for action in env.unwrapped.game.actions]
        ended = False
        for action in moves(240):
            session.set_held(buttons[action])
            session.step_frames(4)
            obs, reward, terminated, _, info = env.step(action)
            assert (session.last_reward, session.done) == (reward, terminated)
            assert session.values == without_frame_number(info)
            assert bytes(obs) == session.emulator.read_ram()
            if terminated:
                ended = True
                break
        assert ended  # the whole game, to its end
    finally:
        session.close()
        env.close()


def without_frame_number(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k != "episode_frame_number"}

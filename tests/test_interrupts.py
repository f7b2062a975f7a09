"""Ctrl-C at every line: a KeyboardInterrupt raised at each line gym_mame runs during one
call (counted by a trace function, so the number of points is measured, not assumed), then
``reset()`` must work and the game must go on exactly as in a fresh env with the same seed
and actions (real MAME, real ZeroMQ).

The reference of each test is the env's own first episode, played before any interruption:
an env that has not been interrupted yet is a fresh one."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gym_mame
from gym_mame import MameVectorEnv

PACKAGE = str(Path(gym_mame.__file__).parent)
SEED = 5
STEPS = 3  # steps compared after each recovery
# A sweep of every line of a vector step (about 1,500 of them with two sub-envs) takes
# about three minutes here: these tests interrupt every n-th line instead.
STEP_STRIDE = 6
RESET_STRIDE = 3


class LineInterrupter:
    """A trace function counting the 'line' events in gym_mame's own modules; it raises
    KeyboardInterrupt at event ``at`` (CPython then removes it: one interruption a call)."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.count = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        return self._line if frame.f_code.co_filename.startswith(PACKAGE) else None

    def _line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.count += 1
            if self.count == self.at:
                raise KeyboardInterrupt
        return self._line


def run_traced(call: Callable[[], Any], at: int | None = None) -> tuple[bool, int]:
    """Run ``call`` with a KeyboardInterrupt at line event ``at``; return whether it
    came, and how many line events ran."""
    tracer = LineInterrupter(at)
    sys.settrace(tracer)
    try:
        call()
    except KeyboardInterrupt:
        return True, tracer.count
    finally:
        sys.settrace(None)
    return False, tracer.count


def sweep(call: Callable[[], Any], recover: Callable[[], Any], stride: int = 1) -> int:
    """Measure how many lines ``call`` runs, then interrupt it at every ``stride``-th one;
    ``recover`` runs after each (it checks the env and leaves it ready for ``call``).
    Return the number of points."""
    # A wait for MAME loops as often as it takes, so a call's line count varies from run to
    # run (more on a loaded machine): the fewest of three runs bounds the points.
    counts = []
    for _ in range(3):
        counts.append(run_traced(call)[1])
        recover()
    lines = min(counts)
    assert lines > 50, f"only {lines} lines traced: is the trace looking at gym_mame?"
    points = range(1, lines + 1, stride)
    interrupted = 0
    for at in points:
        came, _ = run_traced(call, at)
        interrupted += came
        recover()
    # Even so, a run may end a few lines sooner: the last points may fall after its end.
    assert interrupted >= 0.95 * len(points), \
        f"{interrupted} of {len(points)} points interrupted (line counts {counts})"
    print(f"{counts} lines, {len(points)} points (every {stride}), {interrupted} interrupted")
    return len(points)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


# -- the vector env ---------------------------------------------------------------------------
def play_vector(envs: MameVectorEnv, actions: np.ndarray) -> list[Any]:
    obs, _ = envs.reset(seed=SEED)
    return [obs] + [envs.step(a)[0] for a in actions]


@pytest.fixture(scope="module")
def vector() -> Iterator[MameVectorEnv]:
    envs = MameVectorEnv("a2600-breakout", num_envs=2)
    yield envs
    envs.close()


def actions_for(space: Any, count: int, seed: int = 0) -> list[Any]:
    space.seed(seed)
    return [space.sample() for _ in range(count)]


def check_vector_recovers(envs: MameVectorEnv, call: Callable[[], Any], stride: int) -> int:
    actions = actions_for(envs.action_space, STEPS + 1)
    reference = play_vector(envs, actions[:STEPS])
    refused = []

    def recover() -> None:
        try:  # before the reset: refused with a clear error, unless the call had finished
            envs.step(actions[STEPS])
            refused.append(False)
        except RuntimeError as exc:
            assert "call reset()" in str(exc)
            refused.append(True)
        got = play_vector(envs, actions[:STEPS])
        assert all(same(a, b) for a, b in zip(reference, got, strict=True)), len(refused)

    points = sweep(call, recover, stride)
    assert sum(refused) >= 0.9 * points
    return points


def test_ctrl_c_at_every_line_of_a_vector_step(vector: MameVectorEnv) -> None:
    actions = actions_for(vector.action_space, 1, seed=1)[0]
    assert check_vector_recovers(vector, lambda: vector.step(actions), STEP_STRIDE) > 100


def test_ctrl_c_at_every_line_of_a_vector_reset(vector: MameVectorEnv) -> None:
    assert check_vector_recovers(vector, lambda: vector.reset(seed=SEED + 1), RESET_STRIDE) > 100


def play_async(envs: MameVectorEnv, actions: list[Any]) -> dict[int, list[Any]]:
    """Each sub-env's observations over STEPS steps of EnvPool-style send/recv (the order
    in which sub-envs arrive may differ from run to run; each one's own sequence may not)."""
    seen: dict[int, list[Any]] = {i: [] for i in range(envs.num_envs)}
    envs.async_reset(seed=SEED)
    while min(len(v) for v in seen.values()) <= STEPS:
        obs, *_, info = envs.recv()
        ids = info["env_id"]
        for row, i in enumerate(ids):
            seen[int(i)].append(obs[row].copy())
        envs.send([actions[min(len(seen[int(i)]) - 1, STEPS)][int(i)] for i in ids], ids)
    envs.recv()  # the batch still running
    return {i: v[:STEPS + 1] for i, v in seen.items()}


def test_ctrl_c_at_every_line_of_send_recv_and_async_reset() -> None:
    envs = MameVectorEnv("a2600-breakout", num_envs=2, batch_size=1)
    try:
        flat = actions_for(envs.single_action_space, 2 * (STEPS + 1))
        actions = [flat[2 * t:2 * t + 2] for t in range(STEPS + 1)]
        reference = play_async(envs, actions)

        def recover(then: Callable[[], Any] = lambda: None) -> Callable[[], None]:
            def check() -> None:
                got = play_async(envs, actions)
                assert all(same(reference[i], got[i]) for i in reference)
                then()  # what the next interrupted call needs first
            return check

        def send() -> None:
            envs.send([actions[0][0]], envs._last_ids)

        # play_async ends with nothing running: send() may start the last batch again
        assert sweep(lambda: envs.async_reset(seed=SEED + 1), recover(), stride=4) > 25
        assert sweep(send, recover(), stride=4) > 25
        send()
        assert sweep(envs.recv, recover(then=send), stride=4) > 25
    finally:
        envs.close()


# -- the PettingZoo envs --------------------------------------------------------------------
def test_ctrl_c_at_every_line_of_a_pettingzoo_parallel_step() -> None:
    env = gym_mame.parallel_env("a2600-boxing", num_players=2)
    try:
        plays = [{a: env.action_space(a).sample() for a in env.possible_agents}
                 for _ in range(STEPS + 1)]

        def play() -> list[Any]:
            obs, _ = env.reset(seed=SEED)
            return [obs] + [env.step(p)[0] for p in plays[:STEPS]]

        reference = play()

        def recover() -> None:
            assert all(same(a, b) for a, b in zip(reference, play(), strict=True))

        assert sweep(lambda: env.step(plays[STEPS]), recover) > 100
    finally:
        env.close()


def test_ctrl_c_in_a_pettingzoo_aec_step() -> None:
    env = gym_mame.aec_env("a2600-boxing", num_players=2)
    try:
        moves = [env.action_space(a).sample() for a in env.possible_agents] * (STEPS + 1)

        def play() -> list[Any]:
            env.reset(seed=SEED)
            seen = [env.observe(env.agent_selection)]
            for move in moves[:2 * STEPS]:
                env.step(move)
                seen.append(env.observe(env.agent_selection))
            return seen

        def both_moves() -> None:  # the second agent's move runs the parallel env's step
            env.step(moves[0])
            env.step(moves[1])

        reference = play()

        def recover() -> None:
            assert all(same(a, b) for a, b in zip(reference, play(), strict=True))

        assert sweep(both_moves, recover, stride=2) > 100
    finally:
        env.close()

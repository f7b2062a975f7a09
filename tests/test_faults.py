"""Faults over time: a 4-sub-env vector env stepped while its MAMEs are killed (-9) and
stopped (SIGSTOP: a hang, found by ``timeout``) at seeded moments, as the README's
"Restarts instead of lost runs" promises: each fault costs its sub-env one truncated
episode with ``info["mame_restarted"]`` and nothing else; the untouched sub-envs play
exactly as in a run without faults; nothing is left behind (real MAME, real ZeroMQ)."""

from __future__ import annotations

import hashlib
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from processes import alive

from gym_mame import MameVectorEnv

SEED = 11
STEPS = 300
NUM_ENVS = 4
TIMEOUT = 3.0  # seconds a stopped MAME is given before it counts as hung
OPTIONS = {"timeout": TIMEOUT, "max_restarts": 50}


def faults(rng: np.random.Generator) -> dict[int, list[tuple[int, int]]]:
    """step -> [(sub-env, signal)]: eight faults on sub-envs 1-3 (sub-env 0 is never touched),
    at least 20 steps apart on the same sub-env, half of them kills, half of them stops."""
    plan: dict[int, list[tuple[int, int]]] = {}
    last = dict.fromkeys(range(1, NUM_ENVS), -100)
    kinds = [signal.SIGKILL, signal.SIGSTOP] * 4
    rng.shuffle(kinds)
    for kind in kinds:
        while True:
            step, env = int(rng.integers(10, STEPS - 10)), int(rng.integers(1, NUM_ENVS))
            if abs(step - last[env]) >= 20:
                break
        last[env] = step
        plan.setdefault(step, []).append((env, int(kind)))
    return plan


def digest(obs: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(obs).tobytes()).hexdigest()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def play(plan: dict[int, list[tuple[int, int]]], actions: np.ndarray) -> dict[str, Any]:
    """Play STEPS steps, signalling MAMEs between send and recv as ``plan`` says."""
    envs = MameVectorEnv("a2600-breakout", num_envs=NUM_ENVS, **OPTIONS)
    seen: dict[str, Any] = {"digests": [], "restarted": [], "truncated": [], "pids": set(),
                            "folders": set(), "rss": []}
    try:
        obs, _ = envs.reset(seed=SEED)
        seen["digests"].append([digest(o) for o in obs])
        for t in range(STEPS):
            for env in envs.envs:
                if not env.emulator.bridge.closed:
                    seen["pids"].add(env.emulator.bridge.proc.pid)
                    seen["folders"].add(env.emulator.bridge.workdir)
            envs.send(actions[t])
            for i, kind in plan.get(t, []):
                os.kill(envs.envs[i].emulator.bridge.proc.pid, kind)
            obs, _, _, truncated, info = envs.recv()
            seen["digests"].append([digest(o) for o in obs])
            restarted = info.get("mame_restarted", np.zeros(NUM_ENVS, bool))
            seen["restarted"].append(restarted & info.get("_mame_restarted", restarted))
            seen["truncated"].append(truncated)
            if t in (50, STEPS - 1):
                seen["rss"].append(rss_mb())
    finally:
        envs.close()
    return seen


def test_kills_and_hangs_over_time_cost_one_truncated_episode_each() -> None:
    rng = np.random.default_rng(SEED)
    plan = faults(rng)
    actions = rng.integers(0, 4, size=(STEPS, NUM_ENVS))
    reference = play({}, actions)
    fds = len(os.listdir("/proc/self/fd"))  # now with ZeroMQ's own (made on first use)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        faulty = play(plan, actions)
    restarts = [str(w.message) for w in caught if "a fresh MAME takes its place" in str(w.message)]

    # every fault: one truncated episode with info["mame_restarted"], on its own sub-env
    restarted = np.array(faulty["restarted"])
    expected = np.zeros(NUM_ENVS, int)
    for hits in plan.values():
        for i, _ in hits:
            expected[i] += 1
    assert restarted.sum(axis=0).tolist() == expected.tolist()
    assert np.array(faulty["truncated"])[restarted].all()
    assert len(restarts) == sum(expected)
    assert any("SIGKILL" in m for m in restarts) and any("took more than" in m for m in restarts)
    assert not np.array(reference["restarted"]).any()

    # the untouched sub-env plays as without faults; the others do, up to their first fault
    for i in range(NUM_ENVS):
        first = min([t for t, hits in plan.items() if any(j == i for j, _ in hits)],
                    default=STEPS)
        mine = [row[i] for row in faulty["digests"][:first + 1]]
        assert mine == [row[i] for row in reference["digests"][:first + 1]], i

    # nothing left behind: no MAME, no temporary folder, no file descriptor; memory flat
    for run in (reference, faulty):
        assert not [p for p in run["pids"] if alive(p)]
        assert not [f for f in run["folders"] if Path(f).exists()]
    assert len(faulty["pids"]) == NUM_ENVS + sum(expected)
    assert len(os.listdir("/proc/self/fd")) <= fds
    growth = faulty["rss"][1] - faulty["rss"][0]
    print(f"RSS {faulty['rss'][0]:.1f} MB after 50 steps, {faulty['rss'][1]:.1f} MB at the end")
    assert growth < 40, f"RSS grew {growth:.1f} MB over {STEPS - 50} steps with 8 restarts"

"""Benchmark of many envs at once: N sub-envs against N raw MAMEs run together.

For each N, in alternating rounds (as :mod:`gym_mame.tools.bench` does for one env), it
measures the emulated frames/s of all instances together for:

- ``raw xN``: N raw MAMEs (``-str``, no Lua) started together, the reference;
- ``native``: :class:`gym_mame.MameVectorEnv`, every sub-env each step;
- ``native async``: the same with ``batch_size = N/2`` (EnvPool-style send/recv);
- ``AsyncVectorEnv``: Gymnasium's, a Python worker process per :class:`MameEnv`;
- ``ALE vector``: ale-py's ``AtariVectorEnv`` on the same cartridge (a2600 games),
  its preprocessing off (RGB, no frame stack, no max-pooling), and ``EnvPool`` where
  it is installed.

Every sub-env runs RGB observations at ``frameskip`` with random actions and no
sticky actions. A row's ratio is the median over rounds of its figure over the same
round's ``raw xN``; memory is the proportional set size (PSS) of the whole process
tree the row starts (its Python workers and MAMEs, plus what it adds to this
process), per sub-env.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gym_mame.tools.bench import (
    IMPOSSIBLE_MARGIN,
    BenchGame,
    Progress,
    RawMame,
    Sample,
    bench_env,
    faster_than_raw,
    play_rounds,
    spread_text,
)


def tree_pss_mb(root: int | None = None) -> float:
    """Proportional set size of process ``root`` (default: this one) and its descendants."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total / 1024


class RawTogether:
    """``n`` raw MAMEs at once; their speeds (each measured as :class:`RawMame` does) summed."""

    def __init__(self, bench: BenchGame, n: int) -> None:
        self.label = f"raw x{n}"
        self.raws = [RawMame(bench) for _ in range(n)]

    def measure(self, round_: int) -> Sample:
        with ThreadPoolExecutor(max_workers=len(self.raws)) as pool:
            samples = list(pool.map(lambda raw: raw.measure(round_), self.raws))
        return Sample(sum(s.frames_per_s for s in samples))

    def close(self) -> None:
        pass


class VectorRunner:
    """Random steps in a vector env: ``steps`` per sub-env, all sub-envs counted."""

    def __init__(self, label: str, make: Callable[[], Any], n: int, bench: BenchGame,
                 batch: int | None = None) -> None:
        before = tree_pss_mb()
        self.label, self.n, self.bench, self.batch = label, n, bench, batch
        self.envs = make()
        self.envs.reset(seed=0)
        self.memory_mb = (tree_pss_mb() - before) / n
        self.rng = np.random.default_rng(0)

    def _actions(self, count: int) -> np.ndarray:
        n_actions = self.envs.single_action_space.n
        return self.rng.integers(0, n_actions, count)

    def measure(self, round_: int) -> Sample:
        total = self.bench.steps * self.n
        start = time.perf_counter()
        if self.batch is None:
            for _ in range(self.bench.steps):
                self.envs.step(self._actions(self.n))
        else:  # EnvPool-style: work on whichever batch is ready
            self.envs.async_reset(seed=round_)
            done = 0
            while done < total:
                *_, info = self.envs.recv()
                self.envs.send(self._actions(self.batch), info["env_id"])
                done += self.batch
            self.envs.recv()  # what is still running
        elapsed = time.perf_counter() - start
        return Sample(total * self.bench.frameskip / elapsed, total / elapsed)

    def close(self) -> None:
        self.envs.close()


def _ale_vector(bench: BenchGame, n: int) -> Any | None:
    cart = bench.game.cartridge
    if cart is None or cart.package != "ale_py":
        return None
    try:
        from ale_py.vector_env import AtariVectorEnv
    except ImportError:
        return None
    return AtariVectorEnv(cart.file.removesuffix(".bin"), n, frameskip=bench.frameskip,
                          grayscale=False, img_height=210, img_width=160, stack_num=1,
                          maxpool=False, noop_max=0, reward_clipping=False,
                          use_fire_reset=False, repeat_action_probability=0.0)


def _envpool(bench: BenchGame, n: int) -> Any | None:
    cart = bench.game.cartridge
    if cart is None or cart.package != "ale_py":
        return None
    try:
        import envpool  # type: ignore[import-not-found]
    except ImportError:
        return None
    task = "".join(w.capitalize() for w in cart.file.removesuffix(".bin").split("_")) + "-v5"
    return envpool.make_gymnasium(task, num_envs=n, frame_skip=bench.frameskip,
                                  img_height=210, img_width=160, gray_scale=False,
                                  stack_num=1, noop_max=1, episodic_life=False,
                                  reward_clip=False, repeat_action_probability=0.0)


def runners(bench: BenchGame, n: int) -> list[VectorRunner]:
    """Every row kind that can run here for ``n`` sub-envs."""
    from gym_mame.envs.vector_env import MameVectorEnv

    kwargs = {"frameskip": bench.frameskip, "obs_type": "rgb", "repeat_action_probability": 0.0}
    game = bench.game.name
    out = [VectorRunner("native", lambda: MameVectorEnv(game, n, **kwargs), n, bench)]
    if n > 1:
        out.append(VectorRunner(
            "native async", lambda: MameVectorEnv(game, n, batch_size=n // 2,
                                                           **kwargs), n, bench, n // 2))
    out.append(VectorRunner("AsyncVectorEnv", lambda: gym.make_vec(
        bench.env_id, num_envs=n, vectorization_mode="async", **kwargs), n, bench))
    for label, make in (("ALE vector", _ale_vector), ("EnvPool", _envpool)):
        if make(bench, 1) is not None:
            out.append(VectorRunner(label, lambda make=make: make(bench, n), n, bench))
    return out


@dataclass
class VectorRow:
    label: str
    memory_mb: float | None = None
    samples: list[Sample] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    @property
    def frames_per_s(self) -> float:
        return statistics.median(s.frames_per_s for s in self.samples)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def bench_size(bench: BenchGame, n: int, repeats: int,
               progress: Progress | None = None) -> tuple[VectorRow, list[VectorRow]]:
    """Rounds for ``n`` sub-envs: raw xN and every runner, alternating order."""
    raw = RawTogether(bench, n)
    made = runners(bench, n)
    try:
        order: list[Any] = [raw, *made]
        rows = {id(r): VectorRow(r.label, getattr(r, "memory_mb", None)) for r in order}
        total = repeats * len(order)
        play_rounds(raw, made, rows, repeats, f"N={n}", progress, 0, total)
        if progress:
            progress(f"N={n}: done", total, total)
    finally:
        for runner in made:
            runner.close()
    return rows[id(raw)], [rows[id(r)] for r in made]


MAME_ROWS = {"native", "native async", "AsyncVectorEnv"}  # rows that run MAME itself


def cores() -> int:
    """The cores this process may run on (its affinity: a container's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def impossible_raw(n: int, raw_fps: dict[int, float], cores: int,
                   margin: float = IMPOSSIBLE_MARGIN) -> list[str]:
    """Warnings for ``raw xN`` against the other sizes measured (``raw_fps``: N -> frames/s
    of N raw MAMEs together): going from a MAMEs to b cannot speed them up by more than
    min(b, cores) / min(a, cores), N MAMEs sharing the cores. More than ``margin`` past it,
    one of the two figures was disturbed (other load came or went)."""
    warnings = []
    for m, fps in sorted(raw_fps.items()):
        if m == n:
            continue
        (a, fa), (b, fb) = sorted(((m, fps), (n, raw_fps[n])))
        most = min(b, cores) / min(a, cores)
        if fb / fa > most * (1 + margin):
            warnings.append(f"! raw x{b} at {fb:.0f} fps is {fb / fa:.1f}x raw x{a}'s {fa:.0f}, "
                            f"more than {b} MAMEs on {cores} cores can be ({most:g}x): a run "
                            "was disturbed by other load; its ratios are not to be trusted, "
                            "rerun with more --repeats")
    return warnings


def format_size(n: int, raw: VectorRow, rows: Sequence[VectorRow]) -> str:
    lines = [f"N={n:<3} {raw.label:<15} {raw.frames_per_s:>9.0f} {'100%':>8}"]
    warnings = []
    for row in rows:
        spread = spread_text(row.ratios, lambda r: f"{r:.0%}")
        memory = f"{row.memory_mb:.0f} MB" if row.memory_mb is not None else ""
        lines.append(f"{'':<5} {row.label:<15} {row.frames_per_s:>9.0f} {row.ratio:>8.0%} "
                     f"{spread:>11} {memory:>9}")
        if row.label in MAME_ROWS:  # ALE's and EnvPool's emulator may well be faster
            warnings.append(faster_than_raw(row.label, row.ratio, raw.label))
    return "\n".join(lines + [f"{'':<5} {w}" for w in warnings if w])


def run_vector_benchmark(env_id: str, sizes: Sequence[int] = (1, 2, 4, 8), steps: int = 500,
                         repeats: int = 3, frameskip: int | None = None,
                         progress: Progress | None = None,
                         out: Callable[[str], Any] = print) -> list[tuple[int, VectorRow,
                                                                          list[VectorRow]]]:
    """The table for ``env_id``: for each N, every row as a share of N raw MAMEs together."""

    env = bench_env(env_id, frameskip)
    try:
        base = env.unwrapped
        frameskip = base.frameskip
        bench = BenchGame(env_id, base.game, dict(base.emulator.media),
                          base.metadata["render_fps"] * frameskip, frameskip, steps, env)
    finally:
        env.close()
    out(f"{env_id}: N sub-envs, frameskip {frameskip}, RGB, random actions; {steps} steps "
        f"per sub-env per round, {repeats} rounds; on {cores()} cores\n"
        f"{'':<5} {'row':<15} {'frames/s':>9} {'vs raw xN':>8} {'spread':>11} "
        f"{'memory/sub-env':>9}")
    results = []
    raw_fps: dict[int, float] = {}
    for n in sizes:
        raw, rows = bench_size(bench, n, repeats, progress)
        raw_fps[n] = raw.frames_per_s
        out(format_size(n, raw, rows))
        for warning in impossible_raw(n, raw_fps, cores()):
            out(f"{'':<5} {warning}")
        results.append((n, raw, rows))
    out("frames/s: all sub-envs together; vs raw xN: over N raw MAMEs (-str) run together in "
        "the same round (median; spread min-max); memory: PSS of the processes a row starts")
    return results

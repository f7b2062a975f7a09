"""Benchmark: every speed as a ratio against raw MAME speed of the same machine, in one run.

Raw speed is MAME's own ``-str`` (seconds_to_run) figure with no Lua at all:
``Average speed: X%`` of real time, times the screen's refresh rate, gives emulated
frames per second. Against it run the *row kinds*: the env (random steps at
``frameskip`` with RGB observations) and, for Atari 2600 games whose cartridge comes
from ale-py, the Arcade Learning Environment on the same cartridge.

Measurements are taken in rounds. Each round runs raw MAME and every row kind once, in
short runs that emulate the same number of frames (so raw MAME and the env take about
as long; see ``RawMame`` for how MAME's start-up is left out), in alternating order (forward,
then backward, ...). A row's ratio is the median of its per-round ratios against that
round's raw figure, printed with their min-max spread: a load that drifts during the
benchmark then weighs on both sides of each ratio, and a wide spread says the machine
was too noisy to trust the median. Finally the CPU use of a MAME whose agent is idle
is measured.

A new row kind (N MAMEs together, a vector env) is a function ``BenchGame -> Runner | None``
added to ``ROW_KINDS``: a runner measures emulated frames/s (all instances together) over
``BenchGame.frames`` frames.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym

from gym_mame.errors import GymMameError
from gym_mame.integration import Integration
from gym_mame.runtime.roms import rom_paths
from gym_mame.wire.bridge import find_mame
from gym_mame.wire.mamecmd import MameCommand

RAW_MIN_SECONDS = 2  # MAME prints no average for shorter -str runs
WARM_UP_WALL = 1.5  # seconds of wall time a raw MAME's start-up is allowed to take
MAME_UNAVERAGED = 0.875  # emulated seconds at the start of a run that MAME's average skips
# How far past what is possible a figure may be before it is flagged: more than measurement
# noise, so a flag means a run was disturbed (the load changed under it), not jitter.
IMPOSSIBLE_MARGIN = 0.25

# ``progress(what, done, total)``: called before each measurement with what runs next and
# how many of the game's measurements are done, and once more at the end (done == total).
Progress = Callable[[str, int, int], None]


# -- the measurements ---------------------------------------------------------------
def raw_fps(machine: str, media: dict[str, str], refresh: float, seconds: float,
            rom_path: str | Sequence[str] | None = None) -> float:
    """Emulated frames/s of MAME alone running ``machine`` for ``seconds`` emulated seconds
    (``rom_path``: where its ROM sets are, searched as an env searches them)."""
    command = MameCommand(find_mame(), machine, media, [str(p) for p in rom_paths(rom_path)],
                          seconds=math.ceil(seconds))
    with tempfile.TemporaryDirectory(prefix="gym_mame-bench-") as wd:
        out = subprocess.run(command.argv(wd), capture_output=True, text=True,
                             env=command.environ(), timeout=600, stdin=subprocess.DEVNULL)
    match = re.search(r"Average speed:\s*([\d.]+)%", out.stdout + out.stderr)
    if not match:
        raise GymMameError(f"MAME printed no speed for {machine} (-str {seconds}): "
                           f"{out.stderr.strip()[-300:]}")
    return float(match.group(1)) / 100.0 * refresh


def env_fps(env: gym.Env, steps: int, frameskip: int, seed: int) -> tuple[float, float]:
    """Steps/s and emulated frames/s of ``steps`` random steps."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    return steps / elapsed, steps * frameskip / elapsed


def idle_cpu(env: gym.Env, seconds: float = 2.0) -> float:
    """Percent of one core MAME uses while the agent does nothing."""
    pid = env.unwrapped.emulator.pid
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    time.sleep(1.0)  # let start-up threads finish
    before = cpu()
    time.sleep(seconds)
    return 100.0 * (cpu() - before) / seconds


def ale_env(game: Integration, frameskip: int) -> gym.Env | None:
    """ALE's env for the same cartridge, or None (not an ale-py cartridge, or no ale-py)."""
    cart = game.cartridge
    if cart is None or cart.package != "ale_py":
        return None
    try:
        from ale_py.env import AtariEnv
    except ImportError:
        return None
    return AtariEnv(game=cart.file.removesuffix(".bin"), obs_type="rgb", frameskip=frameskip,
                    repeat_action_probability=0.0)


# -- runners: one per row kind ------------------------------------------------------------
@dataclass(frozen=True)
class BenchGame:
    """What every runner of one game needs to know."""

    env_id: str
    game: Integration
    media: dict[str, str]  # MAME media options of the env, e.g. {"cart": ".../breakout.bin"}
    refresh: float  # emulated screen frames per second
    frameskip: int
    steps: int  # env steps per measurement
    env: gym.Env  # a started gym_mame env (frameskip, RGB): the env row runs it

    @property
    def frames(self) -> int:
        """Emulated frames per measurement, the same for every runner."""
        return self.steps * self.frameskip


@dataclass(frozen=True)
class Sample:
    """One measurement: emulated frames/s (of all instances together) and steps/s."""

    frames_per_s: float
    steps_per_s: float | None = None


class Runner(Protocol):
    label: str

    def measure(self, round_: int) -> Sample:
        """Emulate about ``BenchGame.frames`` frames; ``round_`` seeds any randomness."""
        ...

    def close(self) -> None: ...


class RawMame:
    """The reference: MAME's own ``-str`` speed, no Lua, over as many frames as the env runs.

    A fresh MAME runs slowly for about its first wall-clock second (start-up work competes
    with the emulation, and MAME's average starts after one emulated second, which a fast
    machine reaches in a few milliseconds), while the env's MAME is long past that. On a
    busy 2-core machine, a2600 runs of 10, 40 and 67 emulated seconds read about 45%, 15%
    and 10% below a 300 s run. So each measurement is two runs, a short one of ``warm_up``
    seconds (about 1.5 s of wall time, enough to cover the start-up) and one ``warm_up``
    seconds longer than the env's frames, and the speed is the difference of MAME's own
    figures: the extra ``seconds`` of emulation over the extra real time they took (this
    agrees with a 300 s run within a few percent)."""

    label = "raw MAME"

    def __init__(self, bench: BenchGame) -> None:
        self.bench = bench
        # -str takes whole emulated seconds: the frames of one env measurement, rounded up.
        self.seconds = max(RAW_MIN_SECONDS, math.ceil(bench.frames / bench.refresh))
        self.warm_up: int | None = None  # set from the first run's speed

    def _real_seconds(self, seconds: int) -> float:
        """Real time MAME reports for the averaged part of a ``seconds``-long run."""
        b = self.bench
        fps = raw_fps(b.game.machine, b.media, b.refresh, seconds)
        return (seconds - MAME_UNAVERAGED) * b.refresh / fps

    def measure(self, round_: int) -> Sample:
        b = self.bench
        if self.warm_up is None:
            fps = raw_fps(b.game.machine, b.media, b.refresh, self.seconds)
            self.warm_up = max(RAW_MIN_SECONDS, math.ceil(WARM_UP_WALL * fps / b.refresh))
        short = self._real_seconds(self.warm_up)
        long = self._real_seconds(self.warm_up + self.seconds)
        if long <= short:  # a load burst in the short run: no difference to take
            raise GymMameError(f"raw MAME's {self.warm_up + self.seconds} s run took no "
                               f"longer than its {self.warm_up} s run: the machine is too busy "
                               "to benchmark; try again, or with --steps larger")
        return Sample(self.seconds * b.refresh / (long - short))

    def close(self) -> None:
        pass


class GymRunner:
    """Random steps in a Gymnasium env (gym_mame's, or ALE's on the same cartridge)."""

    def __init__(self, label: str, env: gym.Env, bench: BenchGame) -> None:
        self.label, self.env, self.bench = label, env, bench

    def measure(self, round_: int) -> Sample:
        sps, fps = env_fps(self.env, self.bench.steps, self.bench.frameskip, seed=round_)
        return Sample(fps, sps)

    def close(self) -> None:
        self.env.close()


def env_row(bench: BenchGame) -> Runner | None:
    return GymRunner("env", bench.env, bench)


def ale_row(bench: BenchGame) -> Runner | None:
    env = ale_env(bench.game, bench.frameskip)
    return None if env is None else GymRunner("ALE", env, bench)


ROW_KINDS: list[Callable[[BenchGame], Runner | None]] = [env_row, ale_row]
MAME_ROWS = {"env"}  # rows that run MAME itself, so cannot be faster than raw MAME


# -- rounds and results -----------------------------------------------------------------
@dataclass
class Row:
    """One row kind's measurements and its ratios against raw MAME, round by round."""

    label: str
    samples: list[Sample] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # against the same round's raw MAME

    @property
    def frames_per_s(self) -> float:
        return statistics.median(s.frames_per_s for s in self.samples)

    @property
    def steps_per_s(self) -> float | None:
        steps = [s.steps_per_s for s in self.samples if s.steps_per_s is not None]
        return statistics.median(steps) if steps else None

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


@dataclass
class GameResult:
    env_id: str
    raw: Row
    rows: list[Row]
    raw_seconds: int
    idle_cpu_percent: float | None = None
    frameskip: int = 4

    def row(self, label: str) -> Row | None:
        return next((r for r in self.rows if r.label == label), None)


def bench_env(env_id: str, frameskip: int | None) -> gym.Env:
    """The env every row of a game measures: RGB, no sticky actions (ALE runs without them
    beside it: the same work in both), at ``frameskip`` (None: the id's own)."""
    extra = {} if frameskip is None else {"frameskip": frameskip}
    return gym.make(env_id, obs_type="rgb", repeat_action_probability=0.0, **extra)


def play_rounds(raw: Any, runners: Sequence[Any], rows: dict[int, Any], repeats: int,
                label: str, progress: Progress | None, done: int, total: int) -> int:
    """Measure ``raw`` and ``runners`` in ``repeats`` rounds, the order reversed every other
    round (so no runner always follows another), into ``rows`` (by ``id``): each runner's
    ratio is against the raw run of its own round. Return the count of measurements done."""
    order = [raw, *runners]
    for i in range(repeats):
        for runner in order if i % 2 == 0 else order[::-1]:
            if progress:
                progress(f"{label}: {runner.label}, round {i + 1}/{repeats}", done, total)
            rows[id(runner)].samples.append(runner.measure(i))
            done += 1
        reference = rows[id(raw)].samples[-1].frames_per_s
        for runner in runners:
            row = rows[id(runner)]
            row.ratios.append(row.samples[-1].frames_per_s / reference)
    return done


def bench_game(env_id: str, steps: int = 1000, repeats: int = 5, frameskip: int | None = None,
               kinds: Sequence[Callable[[BenchGame], Runner | None]] = ROW_KINDS,
               progress: Progress | None = None) -> GameResult:
    """Measure raw MAME and every row kind of one game in ``repeats`` alternating rounds
    (``frameskip`` None: the env id's own)."""
    env = bench_env(env_id, frameskip)
    runners: list[Runner] = []
    try:
        base = env.unwrapped
        frameskip = base.frameskip
        bench = BenchGame(env_id, base.game, dict(base.emulator.media),
                          base.metadata["render_fps"] * frameskip, frameskip, steps, env)
        raw = RawMame(bench)
        for kind in kinds:
            runner = kind(bench)
            if runner is not None:
                runners.append(runner)
        order: list[Runner] = [raw, *runners]
        rows = {id(r): Row(r.label) for r in order}
        total, done = repeats * len(order) + 1, 0  # + the idle CPU measurement
        done = play_rounds(raw, runners, rows, repeats, env_id, progress, done, total)
        if progress:
            progress(f"{env_id}: idle MAME CPU", done, total)
        idle = idle_cpu(env)
        if progress:
            progress(f"{env_id}: done", total, total)
    finally:
        for runner in runners:
            runner.close()
        env.close()
    return GameResult(env_id, rows[id(raw)], [rows[id(r)] for r in runners], raw.seconds, idle,
                      frameskip)


def _percent(x: float) -> str:
    return f"{x:.0%}" if x >= 10 else f"{x:.1%}"


def spread_text(values: Sequence[float], text: Callable[[float], str]) -> str:
    """``min-max`` of the rounds' figures; a single round has no spread to show ("-")."""
    return f"{text(min(values))}-{text(max(values))}" if len(values) > 1 else "-"


def faster_than_raw(label: str, ratio: float, reference: str = "raw MAME",
                    margin: float = IMPOSSIBLE_MARGIN) -> str | None:
    """A warning when a row that runs MAME (with Lua on top) reads faster than MAME alone
    by more than ``margin``: it cannot be, so one of the two runs was disturbed."""
    if ratio <= 1 + margin:
        return None
    return (f"! {label} at {_percent(ratio)} of {reference} cannot be true (it runs the same "
            f"MAME and more): a run was disturbed by other load; rerun with more --repeats")


def format_header(steps: int, repeats: int, frameskip: int | None) -> str:
    frames = (f"frameskip {frameskip}", f" ({steps * frameskip} frames)") if frameskip \
        else ("each env id's frameskip", "")
    return (f"{frames[0]}, RGB observations; {repeats} rounds per game, each "
            f"alternating raw MAME (-str, no Lua) with {steps} random env steps{frames[1]}\n"
            f"{'env':<30} {'row':<9} {'frames/s':>9} {'steps/s':>8} {'vs raw MAME':>11} "
            f"{'spread (min-max)':>17} {'idle CPU':>8}")


def format_result(result: GameResult) -> str:
    """The game's rows: raw MAME (its own fps spread), then each kind as a ratio of it."""
    raws = [s.frames_per_s for s in result.raw.samples]
    raw_spread = spread_text(raws, lambda fps: f"{fps:.0f}")
    raw_spread += " fps" if len(raws) > 1 else ""
    lines = [f"{result.env_id:<30} {'raw MAME':<9} {result.raw.frames_per_s:>9.0f} {'-':>8} "
             f"{'100%':>11} {raw_spread:>17} {'':>8} frameskip {result.frameskip}"]
    warnings = []
    for row in result.rows:
        sps = f"{row.steps_per_s:.0f}" if row.steps_per_s is not None else "-"
        spread = spread_text(row.ratios, _percent)
        idle = (f"{result.idle_cpu_percent:.1f}%"
                if row.label == "env" and result.idle_cpu_percent is not None else "")
        lines.append(f"{'':<30} {row.label:<9} {row.frames_per_s:>9.0f} {sps:>8} "
                     f"{_percent(row.ratio):>11} {spread:>17} {idle:>8}")
        if row.label in MAME_ROWS:  # ALE's own emulator may well be faster than MAME
            warnings.append(faster_than_raw(row.label, row.ratio))
    return "\n".join(lines + [f"{'':<30} {w}" for w in warnings if w])


FOOTER = ("vs raw MAME = emulated frames/s over raw MAME's in the same round (median of the "
          "rounds; spread: their min-max); idle CPU = MAME's CPU use while the agent waits")


def run_benchmark(env_ids: list[str], steps: int = 1000, repeats: int = 5,
                  frameskip: int | None = None,
                  progress: Progress | None = None,
                  out: Callable[[str], Any] = print) -> list[GameResult]:
    """Benchmark each env against raw MAME and print the table through ``out``."""

    out(format_header(steps, repeats, frameskip))
    results = []
    for env_id in env_ids:
        result = bench_game(env_id, steps, repeats, frameskip, progress=progress)
        results.append(result)
        out(format_result(result))
    out(FOOTER)
    return results

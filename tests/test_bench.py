"""gym-mame bench against real MAME: rounds alternate raw MAME and the env, every figure is a
ratio against the raw MAME of the same round, with its spread. Tiny runs: this checks the
mechanics, not the speed (speed is what the command itself reports)."""

from __future__ import annotations

import re
import subprocess
import sys

from gym_mame.bench import BenchGame, RawMame, Sample, bench_game, env_row


class Logged:
    """A real runner (raw MAME) that records when it ran, to see the order of a round."""

    def __init__(self, bench: BenchGame, log: list[str]) -> None:
        self.label, self.raw, self.log = "second raw", RawMame(bench), log

    def measure(self, round_: int) -> Sample:
        self.log.append(f"second raw {round_}")
        return self.raw.measure(round_)

    def close(self) -> None:
        self.log.append("closed")


def test_rounds_alternate_and_ratios_are_per_round() -> None:
    log: list[str] = []
    events: list[tuple[str, int, int]] = []
    result = bench_game("Mame/a2600-breakout-v0", steps=500, repeats=3,
                        kinds=[env_row, lambda bench: Logged(bench, log)],
                        progress=lambda what, done, total: events.append((what, done, total)))
    # 500 steps x 4 frames: 33.4 s at the a2600's 59.9 Hz, rounded up
    assert result.raw_seconds == 34
    env, second = result.rows
    assert env.label == "env" and len(env.samples) == len(env.ratios) == 3
    raws = [s.frames_per_s for s in result.raw.samples]
    assert env.ratios == [s.frames_per_s / r for s, r in zip(env.samples, raws, strict=True)]
    assert all(s.steps_per_s and s.frames_per_s == 4 * s.steps_per_s for s in env.samples)
    assert log == ["second raw 0", "second raw 1", "second raw 2", "closed"]
    # Round 1 runs raw MAME first, round 2 last (backward), round 3 first again.
    order = [what.split(": ")[1] for what, _, _ in events]
    assert order[:9] == ["raw MAME, round 1/3", "env, round 1/3", "second raw, round 1/3",
                         "second raw, round 2/3", "env, round 2/3", "raw MAME, round 2/3",
                         "raw MAME, round 3/3", "env, round 3/3", "second raw, round 3/3"]
    assert [done for _, done, _ in events] == list(range(11))
    assert events[-1][1] == events[-1][2] == 10
    assert result.idle_cpu_percent is not None and result.idle_cpu_percent < 20
    # Two raw MAMEs of the same machine: their ratio is near 1 (a loose bound, shared machine).
    assert 0.5 < second.ratio < 2.0


def test_bench_command_prints_ratios_against_raw_mame_and_progress() -> None:
    out = subprocess.run([sys.executable, "-m", "gym_mame", "bench", "a2600-breakout",
                          "--steps", "300", "--repeats", "2"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    raw = next(line for line in lines if "raw MAME" in line and "Mame/" in line)
    assert " 100% " in raw and re.search(r"\d+-\d+ fps", raw)
    rows = [line.split() for line in lines if line.startswith(" ")]  # a game's later rows
    env = next(row for row in rows if row[0] == "env")
    assert re.fullmatch(r"[\d.]+%", env[3]) and re.fullmatch(r"[\d.]+%-[\d.]+%", env[4])
    assert any(row[0] == "ALE" for row in rows)  # breakout is an ale-py cart
    assert "round 2/2" in out.stderr  # the progress bar names each measurement

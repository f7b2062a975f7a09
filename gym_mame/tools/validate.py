"""Check an integration by playing it: load, start, step, and watch the variables.

By default the play lasts one whole episode (capped at ``EPISODE_CAP`` steps), because
some variables move only at its end (a game-over flag, a terminal byte). A variable
that never changes during the play is flagged (its address or state entry is probably
wrong, or the play was too short to move it); so is an analog input whose range lies
outside the MAME field's range.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gym_mame.envs.env import MameEnv
from gym_mame.errors import GymMameError
from gym_mame.integration import Integration, load

# Steps a default validation plays at most while waiting for the episode to end: a few
# random Atari or Pong episodes fit (hundreds to ~2000 steps), and it stays under a minute.
EPISODE_CAP = 5000


@dataclass
class VariableStats:
    """What one variable did during the play."""

    first: int
    low: int
    high: int
    changes: int = 0
    last: int = 0

    def add(self, value: int) -> None:
        if value != self.last:
            self.changes += 1
        self.low, self.high, self.last = min(self.low, value), max(self.high, value), value


@dataclass
class Report:
    """The outcome of :func:`validate`."""

    game: Integration
    steps: int = 0
    limit: int = 0  # the step cap the play had
    until_done: bool = True  # the play was meant to last an episode (no --steps)
    total_reward: float = 0.0
    done_at: int | None = None
    stats: dict[str, VariableStats] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def constant(self) -> list[str]:
        """Variables that never changed."""
        return [name for name, s in self.stats.items() if s.changes == 0]


def _input_warnings(game: Integration, description: dict[str, Any]) -> list[str]:
    fields = {(p["tag"], f["name"]): f for p in description["ports"] for f in p["fields"]}
    warnings = []
    for inp in game.inputs.values():
        f = fields.get((inp.port, inp.field))
        if f is None or not inp.analog:
            continue
        if not f["analog"]:
            warnings.append(f"input {inp.name}: {inp.port} {inp.field!r} is digital in MAME, "
                            "but metadata.json declares it analog")
        elif inp.low < f["min"] or inp.high > f["max"]:
            warnings.append(f"input {inp.name}: range [{inp.low}, {inp.high}] is outside the "
                            f"MAME field's [{f['min']}, {f['max']}]")
    return warnings


def validate(game: str | os.PathLike[str], steps: int | None = None, agent: str = "random",
             seed: int = 0, rom_path: str | Sequence[str] | None = None,
             actions: Sequence[int] | None = None, progress: Any = None) -> Report:
    """Load the integration, start it, play one episode and collect statistics.

    The play stops when the episode ends, or after ``steps`` steps (default: at most
    ``EPISODE_CAP``). ``agent`` is ``"random"`` (seeded by ``seed``) or ``"noop"``;
    ``actions`` (discrete action indices, repeated as needed) overrides it.
    Raises the package's errors (IntegrationError, RomNotFoundError, ...) unchanged."""
    integration = load(game)
    report = Report(integration, limit=steps or EPISODE_CAP, until_done=steps is None)
    env = MameEnv(str(integration.folder), rom_path=rom_path)
    try:
        report.warnings += _input_warnings(integration, env.description)
        env.action_space.seed(seed)
        rng = np.random.default_rng(seed)
        _, info = env.reset(seed=seed)
        # data.json variables, then the scenario's derived ones (score, lives, ...)
        names = [*integration.variables, *(d.name for d in integration.scenario.derived)]
        for name in names:
            value = int(info[name])
            report.stats[name] = VariableStats(value, value, value, 0, value)
        n_actions = int(env.action_space.n) if hasattr(env.action_space, "n") else 0
        bad = [a for a in actions or () if not 0 <= a < n_actions]
        if bad:
            raise GymMameError(f"action {bad[0]} does not exist: {integration.name} has "
                               f"{n_actions} actions, 0-{n_actions - 1} "
                               f"({', '.join(env.get_action_meanings())})")
        for i in range(report.limit):
            if actions:
                action: Any = actions[i % len(actions)]
            elif agent == "noop":
                action = 0
            elif n_actions:
                action = int(rng.integers(n_actions))
            else:
                action = env.action_space.sample()
            _, reward, terminated, _, info = env.step(action)
            report.steps += 1
            report.total_reward += float(reward)
            for name in names:
                report.stats[name].add(int(info[name]))
            if progress is not None:
                progress.update()
            if terminated:
                report.done_at = report.steps
                break
    finally:
        env.close()
    play = "scripted" if actions else "no-op" if agent == "noop" else "random"
    derived = {d.name for d in integration.scenario.derived}
    for name in report.constant:
        stayed = report.stats[name].first
        if report.done_at is not None:
            # A whole episode: say exactly that, and what else may explain it.
            what, check = (("derived variable", "its scenario.json expression may hold from "
                            "the start; otherwise check it") if name in derived else
                           ("variable", f"{play} play may never move it (a high score digit, "
                            "a score of 0); otherwise check its address or state entry"))
            report.warnings.append(
                f"{what} {name} never changed in a whole episode of {play} play "
                f"({report.steps} steps, to its end; stayed {stayed}): {check}")
        elif report.until_done:
            report.warnings.append(
                f"variable {name} never changed in {report.steps} steps (stayed {stayed}; the "
                f"episode had not ended at the {report.limit}-step cap): check its address "
                "or state entry, or play longer (--steps)")
        else:
            report.warnings.append(
                f"variable {name} never changed in {report.steps} steps (stayed {stayed}; "
                "the episode had not ended): check its address or state entry, or play "
                "longer (--steps, or leave it out to play the whole episode)")
    return report


def format_report(report: Report) -> str:
    """The summary table and the warnings."""
    rows = [("variable", "start", "min", "max", "changes", "end")]
    for name, s in report.stats.items():
        rows.append((name, str(s.first), str(s.low), str(s.high), str(s.changes), str(s.last)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    if report.done_at is not None:
        done = f"yes, at step {report.done_at}"
    elif report.until_done:
        done = f"no (not within the {report.limit}-step cap)"
    else:
        done = f"no (not within {report.steps} steps)"
    lines += [f"steps: {report.steps}   total reward: {report.total_reward:g}   "
              f"done reached: {done}"]
    lines += [f"WARNING: {w}" for w in report.warnings]
    return "\n".join(lines)

"""What a comparison measures: episode returns and lengths on each side, and the rule by
which two samples agree (the difference of means within ``TOLERANCE`` combined standard
errors; equal means when neither varies)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

# With 57 games and two figures each, 3 standard errors keeps false alarms to about one run
# in three.
TOLERANCE = 3.0  # standard errors


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of ``values`` (standard error 0 for one value)."""
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


def agree(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two samples agree: means within ``TOLERANCE`` combined standard errors, or
    equal when neither varies."""
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    spread = math.hypot(sa, sb)
    if spread == 0:
        return math.isclose(ma, mb)
    return abs(ma - mb) <= TOLERANCE * spread


def mean_se_text(values: Sequence[float]) -> str:
    """``mean ± standard error`` as the tables show it."""
    if not values:
        return "-"
    mean, se = mean_se(values)
    return f"{mean:.1f} ± {se:.1f}"


@dataclass
class Sample:
    """Episode returns and lengths from one environment, and its speed."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    truncated: int = 0
    steps_per_s: float = 0.0


@dataclass
class Row:
    """One single-agent game's comparison: the reference's sample and gym_mame's."""

    game: str
    reference: Sample
    mame: Sample
    problem: str = ""  # set when the game could not be compared

    @property
    def returns_agree(self) -> bool:
        return not self.problem and agree(self.reference.returns, self.mame.returns)

    @property
    def lengths_agree(self) -> bool:
        return not self.problem and agree(self.reference.lengths, self.mame.lengths)

    @property
    def agrees(self) -> bool:
        """Both figures agree."""
        return self.returns_agree and self.lengths_agree

    @property
    def verdict(self) -> str:
        """The table's "agree" cell."""
        return {(True, True): "yes", (True, False): "return only",
                (False, True): "length only", (False, False): "**no**"}[
            (self.returns_agree, self.lengths_agree)]


@dataclass
class MultiSample:
    """Per agent, episode returns; episode lengths (until every agent is done); speed."""

    returns: dict[str, list[float]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    steps_per_s: float = 0.0


@dataclass
class MultiRow:
    """One multi-player game's comparison: every agent's return, and the length."""

    game: str
    reference: MultiSample
    mame: MultiSample
    problem: str = ""

    def returns_agree(self, agent: str) -> bool:
        return agree(self.reference.returns[agent], self.mame.returns[agent])

    @property
    def lengths_agree(self) -> bool:
        return agree(self.reference.lengths, self.mame.lengths)

    @property
    def agrees(self) -> bool:
        return not self.problem and self.lengths_agree and all(
            self.returns_agree(a) for a in self.reference.returns)

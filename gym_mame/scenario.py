"""Reward and episode end, with gym-retro's ``scenario.json`` semantics.

Reward: for each listed variable, take its change since the last step
(``"measurement": "delta"``, the default) or its value (``"absolute"``),
optionally pass it through an ``op`` against ``reference``, then multiply a
positive result by ``reward`` and a negative one by ``penalty`` (both default
0; a positive penalty therefore gives a negative reward). ``"time"`` adds its
``reward`` every step. Done: each listed variable (``"absolute"`` by default)
is true when ``op(value, reference)`` is greater than 0; ``"condition"``
``"any"`` (default) or ``"all"`` combines them, and ``"nodes"`` nest groups.

Beyond gym-retro, for rules one variable cannot express (ALE's games need
them): ``"variables"`` derives named values from others with expressions (see
:mod:`gym_mame.expressions`), which may use ``prev(name)``, the value at the
previous evaluation; ``"reward": {"expression": ...}`` and
``"done": {"expression": ...}`` add to the rules above; ``"every_frame": true``
evaluates after every emulated frame instead of once per step, as ALE does.

Scripts (gym-retro's Lua ``script`` keys) are refused: integrations are data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gym_mame.expressions import Expression, compile_expression
from gym_mame.jsonfile import Node

Values = Mapping[str, float]


def _sign(value: float, _reference: float) -> float:
    return float((value > 0) - (value < 0))


OPS: dict[str, Callable[[float, float], float]] = {
    "equal": lambda v, r: float(v == r),
    "negative-equal": lambda v, r: float(v == -r),
    "not-equal": lambda v, r: float(v != r),
    "less-than": lambda v, r: float(v < r),
    "greater-than": lambda v, r: float(v > r),
    "less-or-equal": lambda v, r: float(v <= r),
    "greater-or-equal": lambda v, r: float(v >= r),
    "nonzero": lambda v, r: float(v != 0),
    "zero": lambda v, r: float(v == 0),
    "positive": lambda v, r: float(v > 0),
    "negative": lambda v, r: float(v < 0),
    "sign": _sign,
}
MEASUREMENTS = ("delta", "absolute")


@dataclass(frozen=True)
class Measure:
    """One variable, measured and optionally compared: the common part of both specs."""

    variable: str
    measurement: str
    op: str | None
    reference: float

    def evaluate(self, values: Values, previous: Values | None) -> float:
        value = values[self.variable]
        if self.measurement == "delta":
            value = value - previous[self.variable] if previous is not None else 0
        if self.op is None:
            return float(value)
        return OPS[self.op](value, self.reference)


@dataclass(frozen=True)
class RewardTerm:
    measure: Measure
    reward: float
    penalty: float

    def evaluate(self, values: Values, previous: Values | None) -> float:
        x = self.measure.evaluate(values, previous)
        return x * self.reward if x > 0 else x * self.penalty


@dataclass(frozen=True)
class DoneGroup:
    tests: tuple[Measure, ...]
    nodes: tuple[DoneGroup, ...]
    require_all: bool

    def evaluate(self, values: Values, previous: Values | None) -> bool:
        results = [t.evaluate(values, previous) > 0 for t in self.tests]
        results += [n.evaluate(values, previous) for n in self.nodes]
        return all(results) if self.require_all else any(results)


@dataclass(frozen=True)
class Derived:
    """A value computed from other variables; ``initial`` is its ``prev()`` at the start."""

    name: str
    expression: Expression
    initial: float


@dataclass(frozen=True)
class Scenario:
    """Parsed ``scenario.json``.

    Per episode: :meth:`start` on the first values, then for each evaluation
    (each step, or each frame with ``every_frame``) :meth:`derive` the full
    values from the memory variables and pass them, with the previous full
    values, to :meth:`reward` and :meth:`done`.
    """

    terms: tuple[RewardTerm, ...] = ()
    time_reward: float = 0.0
    done_group: DoneGroup = field(default_factory=lambda: DoneGroup((), (), False))
    derived: tuple[Derived, ...] = ()
    reward_expression: Expression | None = None
    done_expression: Expression | None = None
    every_frame: bool = False

    def start(self, values: Values) -> dict[str, float]:
        """Full values at the start of an episode: ``prev()`` of a derived variable is
        its ``initial``, of any other variable its current value."""
        previous: dict[str, float] = {**values, **{d.name: d.initial for d in self.derived}}
        return self.derive(values, previous)

    def derive(self, values: Values, previous: Values) -> dict[str, float]:
        """``values`` plus every derived variable, computed in order."""
        full = dict(values)
        for d in self.derived:
            full[d.name] = d.expression.evaluate(full, previous)
        return full

    def reward(self, values: Values, previous: Values | None) -> float:
        total = self.time_reward
        for term in self.terms:
            total += term.evaluate(values, previous)
        if self.reward_expression is not None and previous is not None:
            total += self.reward_expression.evaluate(values, previous)
        return total

    def done(self, values: Values, previous: Values | None) -> bool:
        if self.done_group.evaluate(values, previous):
            return True
        return bool(self.done_expression is not None and previous is not None
                    and self.done_expression.evaluate(values, previous))

    @property
    def variables(self) -> set[str]:
        """Every variable the scenario reads."""
        names = {t.measure.variable for t in self.terms}
        stack = [self.done_group]
        while stack:
            group = stack.pop()
            names |= {t.variable for t in group.tests}
            stack += group.nodes
        for expression in (self.reward_expression, self.done_expression,
                           *(d.expression for d in self.derived)):
            if expression is not None:
                names |= expression.names
        return names


def _measure(name: str, node: Node, default_measurement: str, extra: tuple[str, ...]) -> Measure:
    node.only_keys("measurement", "op", "reference", *extra)
    measurement = node.child("measurement", default_measurement).text()
    if measurement not in MEASUREMENTS:
        raise node.error(f"unknown measurement {measurement!r}; use 'delta' or 'absolute'",
                         "measurement")
    op_node = node.child("op", None)
    op = None if op_node.value is None else op_node.text()
    if op is not None and op not in OPS:
        raise op_node.error(f"unknown op {op!r}; known ops: {', '.join(OPS)}")
    return Measure(name, measurement, op, node.child("reference", 0).number())


def _done_group(node: Node, top: bool = False) -> DoneGroup:
    node.only_keys("variables", "nodes", "condition", *(("expression",) if top else ()))
    condition = node.child("condition", "any").text()
    if condition not in ("any", "all"):
        raise node.error(f"condition must be 'any' or 'all', not {condition!r}", "condition")
    tests = tuple(_measure(name, spec, "absolute", ())
                  for name, spec in node.child("variables", {}).items())
    nodes = tuple(_done_group(sub) for _, sub in node.child("nodes", {}).items())
    return DoneGroup(tests, nodes, condition == "all")


def parse_scenario(root: Node, known_variables: set[str]) -> Scenario:
    """Validate and parse a ``scenario.json`` document against the data.json variables."""
    for key in ("script", "scripts"):
        if key in root.expect(dict, "an object"):
            raise root.error("Lua scripts are not supported: integrations are data only; "
                             "express the rule with variables, ops and nodes", key)
    for node in (root.child("reward", {}), root.child("done", {})):
        if "script" in node.expect(dict, "an object"):
            raise node.error("Lua scripts are not supported: integrations are data only",
                             "script")
    if "rewards" in root.value:
        raise root.error("per-player 'rewards' is not supported yet; use 'reward'", "rewards")
    # gym-retro's "actions" and "crop" live in metadata.json
    root.only_keys("reward", "done", "variables", "every_frame")
    derived = _derived(root.child("variables", {}), known_variables)
    names = known_variables | {d.name for d in derived}
    reward = root.child("reward", {})
    reward.only_keys("variables", "time", "expression")
    terms = []
    for name, spec in reward.child("variables", {}).items():
        measure = _measure(name, spec, "delta", ("reward", "penalty"))
        terms.append(RewardTerm(measure, spec.child("reward", 0).number(),
                                spec.child("penalty", 0).number()))
    time_node = reward.child("time", {})
    time_node.only_keys("reward", "penalty")
    time_reward = time_node.child("reward", 0).number() - time_node.child("penalty", 0).number()
    done = root.child("done", {})
    scenario = Scenario(tuple(terms), time_reward, _done_group(done, top=True), derived,
                        _expression(reward.child("expression", None), names),
                        _expression(done.child("expression", None), names),
                        root.child("every_frame", False).boolean())
    for name in sorted(scenario.variables - names):
        raise root.error(f"uses variable {name!r}, which data.json does not define "
                         f"(defined: {', '.join(sorted(known_variables)) or 'none'})")
    return scenario


def _expression(node: Node, known: set[str], known_prev: set[str] | None = None
                ) -> Expression | None:
    if node.value is None:
        return None
    return node.convert(lambda text: compile_expression(text, known, known_prev))


def _derived(node: Node, data_variables: set[str]) -> tuple[Derived, ...]:
    """``"variables"``: name -> expression, or ``{"expression", "initial"}``, in order."""
    derived: list[Derived] = []
    every = data_variables | set(node.expect(dict, "an object"))
    for name, spec in node.items():
        if name in data_variables:
            raise node.error(f"{name!r} is already a data.json variable; pick another name", name)
        known = data_variables | {d.name for d in derived}
        if isinstance(spec.value, dict):
            spec.only_keys("expression", "initial")
            expression = _expression(spec.child("expression"), known, every)
            initial = spec.child("initial", 0).number()
        else:
            expression, initial = _expression(spec, known, every), 0.0
        assert expression is not None
        derived.append(Derived(name, expression, initial))
    return tuple(derived)

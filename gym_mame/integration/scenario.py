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
:mod:`gym_mame.integration.expressions`), which may use ``prev(name)``, the value at the
previous evaluation; ``"reward": {"expression": ...}`` and
``"done": {"expression": ...}`` add to the rules above; ``"every_frame": true``
evaluates after every emulated frame instead of once per step, as ALE does.

Each expression's range is worked out when loading (:func:`derived_ranges`,
from the data.json variables' ranges), and one that can pass ±2**63 from
bounded inputs is refused.

Scripts (gym-retro's Lua ``script`` keys) are refused: integrations are data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gym_mame.integration.expressions import Expression, Ranges, compile_expression
from gym_mame.integration.intervals import LIMIT, UNBOUNDED, Interval
from gym_mame.integration.jsonfile import Node

ADDRESS_LIMIT = 1 << 64  # the protocol carries 64-bit addresses and 32-bit lengths

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
class PlayerRules:
    """One player's rules: a scenario of its own (its reward, and when it is out) and the
    variable that holds its lives, if the game has them."""

    scenario: Scenario
    lives: str | None = None


@dataclass(frozen=True)
class AfterStep:
    """A rule played after a step that did not end the episode, before the next one (the
    RAM writes with which gym-super-mario-bros skips death and pipe animations): when
    ``when`` holds (None: always), write ``write``; then, while ``loop`` holds, write again
    and run one frame with no button held, at most ``max_frames``. The conditions read
    data.json variables; ``prev(x)`` is ``x`` one frame earlier (at the first check: now).
    The step's reward and info are those of before the rule; its observation, after."""

    when: Expression | None
    loop: Expression | None
    write: tuple[tuple[int, int], ...]
    frames: int  # frames run once after the write when there is no loop
    max_frames: int


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
    # Per player count (2 to 4): each player's own reward and termination rules. The
    # game's "done" above still ends the episode for everyone (the game is over).
    players: dict[int, tuple[PlayerRules, ...]] = field(default_factory=dict)
    after_step: tuple[AfterStep, ...] = ()

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

    def derived_ranges(self, ranges: Ranges) -> dict[str, Interval]:
        """The range of each derived variable, given those of the data.json variables."""
        return derived_ranges(self.derived, ranges)

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


def parse_scenario(root: Node, known_variables: set[str],
                   ranges: Ranges | None = None) -> Scenario:
    """Validate and parse a ``scenario.json`` document against the data.json variables,
    whose ``ranges`` bound its expressions (a variable missing there is unbounded)."""
    for key in ("script", "scripts"):
        if key in root.expect(dict, "an object"):
            raise root.error("Lua scripts are not supported: integrations are data only; "
                             "express the rule with variables, ops and nodes", key)
    if "rewards" in root.value:
        raise root.error("per-player rules are \"players\": {\"2\": [{\"reward\": ..., "
                         "\"done\": ...}, ...]}, not 'rewards'", "rewards")
    # gym-retro's "actions" and "crop" live in metadata.json
    root.only_keys("reward", "done", "variables", "every_frame", "players", "after_step")
    derived_nodes = _derived(root.child("variables", {}), known_variables)
    derived = tuple(d for d, _ in derived_nodes)
    names = known_variables | {d.name for d in derived}
    every_frame = root.child("every_frame", False).boolean()

    def rules(node: Node) -> Scenario:
        """One set of reward and done rules (the game's, or one player's)."""
        reward, done = node.child("reward", {}), node.child("done", {})
        for part in (reward, done):
            if "script" in part.expect(dict, "an object"):
                raise part.error("Lua scripts are not supported: integrations are data only",
                                 "script")
        reward.only_keys("variables", "time", "expression")
        terms = []
        for name, spec in reward.child("variables", {}).items():
            measure = _measure(name, spec, "delta", ("reward", "penalty"))
            terms.append(RewardTerm(measure, spec.child("reward", 0).number(),
                                    spec.child("penalty", 0).number()))
        time_node = reward.child("time", {})
        time_node.only_keys("reward", "penalty")
        time_reward = (time_node.child("reward", 0).number()
                       - time_node.child("penalty", 0).number())
        reward_node, done_node = reward.child("expression", None), done.child("expression", None)
        scenario = Scenario(tuple(terms), time_reward, _done_group(done, top=True), derived,
                            _expression(reward_node, names), _expression(done_node, names),
                            every_frame)
        for name in sorted(scenario.variables - names):
            raise node.error(f"uses variable {name!r}, which data.json does not define "
                             f"(defined: {', '.join(sorted(known_variables)) or 'none'})")
        return _checked(scenario, [n for _, n in derived_nodes], reward_node, done_node,
                        ranges or {})

    scenario = rules(root)
    players: dict[int, tuple[PlayerRules, ...]] = {}
    for count_text, player_list in root.child("players", {}).items():
        count = _player_count(count_text, root)
        entries = player_list.elements()
        if len(entries) != count:
            raise player_list.error(f"has rules for {len(entries)} players, not {count}")
        parsed = []
        for entry in entries:
            entry.only_keys("reward", "done", "lives")
            lives = entry.child("lives", None)
            if lives.value is not None and lives.text() not in names:
                raise lives.error(f"{lives.text()!r} is not a variable")
            parsed.append(PlayerRules(replace(rules(entry), derived=scenario.derived),
                                      lives.value))
        players[count] = tuple(parsed)
    after = tuple(_after_step(n, known_variables, ranges or {})
                  for n in root.child("after_step", []).elements())
    return replace(scenario, players=players, after_step=after)


MAX_AFTER_FRAMES = 100_000


def _after_step(node: Node, known: set[str], ranges: Ranges) -> AfterStep:
    """One ``after_step`` rule: ``{"when": expr, "while": expr, "write": {address: byte},
    "frames": n, "max_frames": n}`` (conditions over data.json variables)."""
    node.only_keys("when", "while", "write", "frames", "max_frames")

    def condition(key: str) -> Expression | None:
        part = node.child(key, None)
        expression = _expression(part, known)
        if expression is None:
            return None
        where = f"{part.file}: {part.where}"
        return part.convert(lambda _: expression.checked(ranges, ranges, where))

    writes = parse_writes(node)
    loop = condition("while")
    frames = node.child("frames", 0).integer()
    most = node.child("max_frames", 10_000).integer()
    if not 0 <= frames <= MAX_AFTER_FRAMES or not 1 <= most <= MAX_AFTER_FRAMES:
        raise node.error(f"frames (0 to {MAX_AFTER_FRAMES}) and max_frames (1 to "
                         f"{MAX_AFTER_FRAMES}) are frame counts")
    if loop is not None and frames:
        raise node.error("a rule with \"while\" runs its frames while it holds; drop "
                         "\"frames\"", "frames")
    return AfterStep(condition("when"), loop, tuple(writes), frames, most)


def _player_count(text: str, node: Node) -> int:
    if text not in ("2", "3", "4"):
        raise node.error(f"player counts are \"2\", \"3\" or \"4\", not {text!r}", "players")
    return int(text)


def _checked(scenario: Scenario, derived_nodes: list[Node], reward_node: Node,
             done_node: Node, ranges: Ranges) -> Scenario:
    """``scenario`` with every expression range-checked (and guarded where unbounded)."""
    current = {**ranges, **scenario.derived_ranges(ranges)}
    prev = _prev_ranges(scenario.derived, current)

    def check(expression: Expression | None, node: Node) -> Expression | None:
        if expression is None:
            return None
        where = f"{node.file}: {node.where}"
        return node.convert(lambda _: expression.checked(current, prev, where))

    derived = tuple(replace(d, expression=check(d.expression, node))
                    for d, node in zip(scenario.derived, derived_nodes, strict=True))
    return replace(scenario, derived=derived,
                   reward_expression=check(scenario.reward_expression, reward_node),
                   done_expression=check(scenario.done_expression, done_node))


# -- ranges of derived variables -------------------------------------------------
WIDEN_AFTER = 8  # rounds before a still-growing bound is taken as unbounded
NARROW_ROUNDS = 3


def derived_ranges(derived: Sequence[Derived], ranges: Ranges) -> dict[str, Interval]:
    """Ranges that hold every value each derived variable takes, in any episode.

    ``prev(x)`` of a derived ``x`` ranges over ``x``'s own values and its ``initial``,
    so the ranges solve a fixed point: grown from nothing until each holds what its
    expression gives, a bound still growing after ``WIDEN_AFTER`` rounds made
    infinite (an accumulator is unbounded), then narrowed while that stays true."""
    estimate: dict[str, Interval | None] = {d.name: None for d in derived}
    for round_number in range(WIDEN_AFTER + 3 * len(derived) + 2):
        computed = _derive_once(derived, ranges, estimate)
        if all(_holds(estimate[n], r) for n, r in computed.items()):
            break
        estimate = {n: _grow(estimate[n], r, round_number >= WIDEN_AFTER)
                    for n, r in computed.items()}
    else:  # cannot happen (each bound and flag widens once); stay sound regardless
        estimate = {d.name: UNBOUNDED for d in derived}
    for _ in range(NARROW_ROUNDS):
        narrower = _derive_once(derived, ranges, estimate)
        if not all(_holds(narrower[n], r) for n, r in _derive_once(derived, ranges,
                                                                    narrower).items()):
            break
        estimate = dict(narrower)
    # What the expressions give on ranges that hold themselves: sound, and tightest.
    return _derive_once(derived, ranges, estimate)


def _derive_once(derived: Sequence[Derived], ranges: Ranges,
                 estimate: Mapping[str, Interval | None]) -> dict[str, Interval]:
    prev = {**ranges, **{d.name: _with_initial(estimate[d.name], d) for d in derived}}
    current = dict(ranges)
    for d in derived:
        current[d.name] = d.expression.range(current, prev)
    return {d.name: current[d.name] for d in derived}


def _with_initial(estimate: Interval | None, d: Derived) -> Interval:
    start = Interval.point(d.initial)
    return start if estimate is None else estimate.hull(start)


def _prev_ranges(derived: Sequence[Derived], current: Ranges) -> dict[str, Interval]:
    return {**current, **{d.name: _with_initial(current[d.name], d) for d in derived}}


def _holds(estimate: Interval | None, computed: Interval) -> bool:
    return estimate is not None and estimate.contains(computed)


def _grow(estimate: Interval | None, computed: Interval, widen: bool) -> Interval:
    if estimate is None:
        return computed
    grown = estimate.hull(computed)
    if not widen:
        return grown
    return Interval(-math.inf if grown.low < estimate.low else grown.low,
                    math.inf if grown.high > estimate.high else grown.high, grown.integral)


def _expression(node: Node, known: set[str], known_prev: set[str] | None = None
                ) -> Expression | None:
    if node.value is None:
        return None
    return node.convert(lambda text: compile_expression(text, known, known_prev))


def _derived(node: Node, data_variables: set[str]) -> list[tuple[Derived, Node]]:
    """``"variables"``: name -> expression, or ``{"expression", "initial"}``, in order
    (each with the node of its expression, for errors)."""
    derived: list[Derived] = []
    nodes: list[Node] = []
    every = data_variables | set(node.expect(dict, "an object"))
    for name, spec in node.items():
        if name in data_variables:
            raise node.error(f"{name!r} is already a data.json variable; pick another name", name)
        known = data_variables | {d.name for d in derived}
        if isinstance(spec.value, dict):
            spec.only_keys("expression", "initial")
            text_node = spec.child("expression")
            initial = spec.child("initial", 0).number()
            if not (math.isfinite(initial) and abs(initial) <= LIMIT):
                raise spec.error("must be a number within ±2**63", "initial")
        else:
            text_node, initial = spec, 0.0
        expression = _expression(text_node, known, every)
        assert expression is not None
        derived.append(Derived(name, expression, initial))
        nodes.append(text_node)
    return list(zip(derived, nodes, strict=True))


def parse_writes(node: Node) -> tuple[tuple[int, int], ...]:
    """A ``write`` object ({"0x80": 3, ...}) of a boot step or an after-step rule: the
    (address, byte) pairs, each checked to be what the protocol carries."""
    writes = []
    for address, value in node.child("write", {}).items():
        try:
            addr = int(address, 0)
        except ValueError:
            raise node.error(f"{address!r} is not an address (e.g. \"0x80\")", "write") from None
        byte = value.integer()
        if not 0 <= addr < ADDRESS_LIMIT or not 0 <= byte <= 255:
            raise value.error("must be a byte (0-255) at an address from 0 to 2**64 - 1")
        writes.append((addr, byte))
    return tuple(writes)

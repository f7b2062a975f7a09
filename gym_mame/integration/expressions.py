"""Expressions in ``scenario.json``: a small, safe subset of Python syntax.

Some rules (ALE's per-game terminal and lives logic, for instance) need more
than gym-retro's one-variable ops: a condition on two bytes, a value kept from
the previous frame, a clamp. They are written as expressions such as::

    started and lives_byte == 0
    min(max(score - prev(score), 0), 1)
    new_lives if new_lives != prev(lives) - 1 or death_flag == 1 else prev(lives)

The text is parsed with :mod:`ast` and every node is checked against a short
whitelist, then turned into nested closures. Nothing is passed to ``eval`` or
``exec``, names can only be integration variables, and the only functions are
``prev``, ``min``, ``max`` and ``abs``.

Allowed: int/float/bool literals, variable names, ``+ - * / // %``, unary
``- + not ~``, ``& | ^ << >>``, comparisons (chains too), ``and``/``or``,
``a if c else b``. ``prev(name)`` is the variable's value at the previous
evaluation. Division or modulo by zero gives 0 (a blank score byte must not end
training), and shifts are limited to 64 bits.

Size and range are bounded when loading: at most ``MAX_DEPTH`` levels of nesting
and ``MAX_NODES`` terms, constants within ±2**63, and :meth:`Expression.checked`
works out from its inputs' ranges (see :mod:`gym_mame.integration.intervals`) the range of
every part of an expression, refusing one that can pass ±2**63 from bounded
inputs. Where an input is unbounded (a value accumulated with ``prev()``) the
expression is evaluated under a guard that names it if it ever does.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gym_mame.errors import IntegrationError
from gym_mame.integration import intervals
from gym_mame.integration.intervals import LIMIT, MAX_SHIFT, UNBOUNDED, Interval

Number = int | float
Values = Mapping[str, Number]
Evaluator = Callable[[Values, Values], Number]  # (current values, previous values)
Ranges = Mapping[str, Interval]

MAX_LENGTH = 2000
MAX_DEPTH = 50  # the bundled games nest 11 deep at most; the compiler recurses per level
MAX_NODES = 500  # and use at most 99 terms


def _div(a: Number, b: Number) -> Number:
    return a / b if b else 0


def _floordiv(a: Number, b: Number) -> Number:
    return a // b if b else 0


def _mod(a: Number, b: Number) -> Number:
    return a % b if b else 0


def _lshift(a: Number, b: Number) -> Number:
    return int(a) << min(max(int(b), 0), MAX_SHIFT)


def _rshift(a: Number, b: Number) -> Number:
    return int(a) >> min(max(int(b), 0), MAX_SHIFT)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _div,
    ast.FloorDiv: _floordiv,
    ast.Mod: _mod,
    ast.BitAnd: lambda a, b: int(a) & int(b),
    ast.BitOr: lambda a, b: int(a) | int(b),
    ast.BitXor: lambda a, b: int(a) ^ int(b),
    ast.LShift: _lshift,
    ast.RShift: _rshift,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Number]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: lambda a: int(not a),
    ast.Invert: lambda a: ~int(a),
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS: dict[str, Callable[..., Number]] = {"min": min, "max": max, "abs": abs}


@dataclass(frozen=True)
class Expression:
    """A checked expression: call :meth:`evaluate` with current and previous values."""

    text: str
    names: frozenset[str]  # every variable it reads (in prev() or not)
    # Compared by text: the same text over the same variables is the same expression
    # (each compile makes a new closure), so a record read twice compares equal.
    evaluate: Evaluator = field(compare=False)
    tree: ast.expr = field(repr=False, compare=False)

    def range(self, ranges: Ranges, prev: Ranges) -> Interval:
        """The values it can give when each variable lies in ``ranges`` and each
        ``prev(name)`` in ``prev`` (a name missing from them is unbounded)."""
        return _Ranger(self.text, ranges, prev, check=False).visit(self.tree)

    def checked(self, ranges: Ranges, prev: Ranges, where: str) -> Expression:
        """This expression, or a copy guarded at step time when some input is unbounded.

        Raises ``ValueError`` when a part of it can pass ±2**63 although its own inputs
        cannot. ``where`` (file and key) is what the guard's error names."""
        ranger = _Ranger(self.text, ranges, prev, check=True)
        ranger.visit(self.tree)
        if not ranger.unbounded:
            return self  # nothing can overflow: no check on the per-frame path
        return replace(self, evaluate=_guard(self.evaluate, self.text, where))


def _guard(evaluate: Evaluator, text: str, where: str) -> Evaluator:
    """``evaluate``, raising a clear error instead of overflowing or going out of range."""

    def guarded(cur: Values, prev: Values) -> Number:
        try:
            value = evaluate(cur, prev)
        except (OverflowError, ValueError) as exc:  # ValueError: int() of a NaN
            raise _overflow(where, text, f"failed ({exc})") from None
        if not -LIMIT <= value <= LIMIT:  # also false for NaN
            raise _overflow(where, text, f"reached {value}, beyond ±2**63")
        return value

    return guarded


def _overflow(where: str, text: str, what: str) -> IntegrationError:
    return IntegrationError(
        f"{where}: {text!r} {what}. Some input it reads has no bound (a value accumulated "
        "with prev() keeps growing?): bound it, e.g. with min() and max()")


def compile_expression(text: str, known: set[str] | frozenset[str],
                       known_prev: set[str] | frozenset[str] | None = None) -> Expression:
    """Parse and check ``text``; raise ``ValueError`` saying what is wrong and where.

    ``known`` are the names it may read; ``known_prev`` those it may pass to
    ``prev()`` (default: the same)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"syntax error in {text!r} at column {exc.offset}: {exc.msg}") from None
    except (RecursionError, MemoryError):  # Python's own parser gives up on deep nesting
        raise ValueError(f"{text[:40]!r}... is nested too deeply to parse; "
                         f"keep it within {MAX_DEPTH} levels") from None
    _check_size(text, tree.body)
    names: set[str] = set()
    evaluate = _Compiler(text, known, known if known_prev is None else known_prev,
                         names).build(tree.body)
    return Expression(text, frozenset(names), evaluate, tree.body)


def _check_size(text: str, root: ast.expr) -> None:
    """Bound nesting and size without recursing, before anything else recurses."""
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ValueError(f"{text[:40]!r}... nests more than {MAX_DEPTH} levels deep; "
                             "split it into derived variables")
        if count > MAX_NODES:
            raise ValueError(f"{text[:40]!r}... has more than {MAX_NODES} terms; "
                             "split it into derived variables")
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)
                  if isinstance(child, ast.expr)]


class _Compiler:
    def __init__(self, text: str, known: set[str] | frozenset[str],
                 known_prev: set[str] | frozenset[str], names: set[str]) -> None:
        self.text = text
        self.known = known
        self.known_prev = known_prev
        self.names = names

    def fail(self, node: ast.AST, problem: str) -> ValueError:
        column = getattr(node, "col_offset", 0) + 1
        return ValueError(f"{problem} (in {self.text!r}, column {column})")

    def name(self, node: ast.expr, in_prev: bool = False) -> str:
        if not isinstance(node, ast.Name):
            raise self.fail(node, "prev() takes a variable name")
        allowed = self.known_prev if in_prev else self.known
        if node.id not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise self.fail(node, f"unknown variable {node.id!r} (known here: {known})")
        self.names.add(node.id)
        return node.id

    def build(self, node: ast.expr) -> Evaluator:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, (int, float)):
                raise self.fail(node, f"only numbers are allowed, not {value!r}")
            if not (math.isfinite(value) and abs(value) <= LIMIT):
                raise self.fail(node, f"constant {value!r} is beyond ±2**63")
            return lambda cur, prev: value
        if isinstance(node, ast.Name):
            name = self.name(node)
            return lambda cur, prev: cur[name]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            fn, left, right = _BINARY[type(node.op)], self.build(node.left), self.build(node.right)
            return lambda cur, prev: fn(left(cur, prev), right(cur, prev))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            ufn, operand = _UNARY[type(node.op)], self.build(node.operand)
            return lambda cur, prev: ufn(operand(cur, prev))
        if isinstance(node, ast.BoolOp):
            parts = [self.build(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda cur, prev: int(all(p(cur, prev) for p in parts))
            return lambda cur, prev: int(any(p(cur, prev) for p in parts))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test, body, orelse = self.build(node.test), self.build(node.body), \
                self.build(node.orelse)
            return lambda cur, prev: body(cur, prev) if test(cur, prev) else orelse(cur, prev)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(node, f"{type(node).__name__} is not allowed in expressions")

    def compare(self, node: ast.Compare) -> Evaluator:
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise self.fail(node, f"comparison {type(op).__name__} is not allowed")
        first = self.build(node.left)
        rest = [(_COMPARE[type(op)], self.build(c)) for op, c in zip(node.ops, node.comparators,
                                                                     strict=True)]

        def evaluate(cur: Values, prev: Values) -> Number:
            left = first(cur, prev)
            for fn, right_fn in rest:
                right = right_fn(cur, prev)
                if not fn(left, right):
                    return 0
                left = right
            return 1

        return evaluate

    def call(self, node: ast.Call) -> Evaluator:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(node, "only prev(name), min(...), max(...) and abs(x) can be called")
        func = node.func.id
        if func == "prev":
            if len(node.args) != 1:
                raise self.fail(node, "prev() takes exactly one variable name")
            name = self.name(node.args[0], in_prev=True)
            return lambda cur, prev: prev[name]
        if func not in _FUNCTIONS:
            raise self.fail(node, f"unknown function {func!r}; use prev, min, max or abs")
        if not node.args or (func == "abs" and len(node.args) != 1):
            raise self.fail(node, f"wrong number of arguments to {func}()")
        fn, args = _FUNCTIONS[func], [self.build(a) for a in node.args]
        if func == "abs":
            arg = args[0]
            return lambda cur, prev: abs(arg(cur, prev))
        if len(args) == 1:  # min(x) and max(x) are x
            return args[0]
        return lambda cur, prev: fn(*(a(cur, prev) for a in args))


class _Ranger:
    """Walks a compiled tree (so: known names, allowed nodes) computing each part's
    range; with ``check``, refuses a part that can pass ±2**63 from bounded inputs."""

    def __init__(self, text: str, ranges: Ranges, prev: Ranges, check: bool) -> None:
        self.text = text
        self.ranges = ranges
        self.prev = prev
        self.check = check
        self.unbounded = False  # some part's range passes ±2**63

    def visit(self, node: ast.expr) -> Interval:
        if isinstance(node, ast.Constant):
            return Interval.point(int(node.value) if isinstance(node.value, bool) else node.value)
        if isinstance(node, ast.Name):
            return self.result(node, self.ranges.get(node.id, UNBOUNDED), ())
        if isinstance(node, ast.BinOp):
            left, right = self.visit(node.left), self.visit(node.right)
            return self.result(node, intervals.BINARY[type(node.op).__name__](left, right),
                               (left, right))
        if isinstance(node, ast.UnaryOp):
            operand = self.visit(node.operand)
            return self.result(node, intervals.UNARY[type(node.op).__name__](operand),
                               (operand,))
        if isinstance(node, ast.BoolOp):
            truths = [self.visit(v).truth() for v in node.values]
            if isinstance(node.op, ast.And):
                return intervals.boolean(False if False in truths else
                                         True if all(truths) else None)
            return intervals.boolean(True if True in truths else
                                     False if all(t is False for t in truths) else None)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.visit(node.test), self.visit(node.body),
                                  self.visit(node.orelse))
            truth = test.truth()
            return body if truth else orelse if truth is False else body.hull(orelse)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return self.call(node, node.func.id)

    def compare(self, node: ast.Compare) -> Interval:
        operands = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        truths = [intervals.COMPARISONS[type(op).__name__](a, b)
                  for op, a, b in zip(node.ops, operands, operands[1:], strict=False)]
        return intervals.boolean(False if False in truths else True if all(truths) else None)

    def call(self, node: ast.Call, func: str) -> Interval:
        if func == "prev":
            name = node.args[0]
            assert isinstance(name, ast.Name)
            return self.result(node, self.prev.get(name.id, UNBOUNDED), ())
        args = [self.visit(a) for a in node.args]
        if func == "abs":
            return self.result(node, intervals.absolute(args[0]), args)
        return intervals.minimum(args) if func == "min" else intervals.maximum(args)

    def result(self, node: ast.expr, value: Interval, inputs: tuple[Interval, ...] | list[Interval]
               ) -> Interval:
        if value.bounded:
            return value
        self.unbounded = True
        if self.check and inputs and all(i.bounded for i in inputs):
            column = node.col_offset + 1
            raise ValueError(
                f"{ast.unparse(node)!r} can reach {value} with inputs in "
                f"{', '.join(str(i) for i in inputs)}, beyond ±2**63 (in {self.text!r}, "
                f"column {column}); narrow its inputs, e.g. with a mask or min() and max()")
        return value

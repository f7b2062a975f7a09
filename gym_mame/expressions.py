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
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Number = int | float
Values = Mapping[str, Number]
Evaluator = Callable[[Values, Values], Number]  # (current values, previous values)

MAX_LENGTH = 2000
MAX_SHIFT = 64


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
    evaluate: Evaluator


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
    names: set[str] = set()
    evaluate = _Compiler(text, known, known if known_prev is None else known_prev,
                         names).build(tree.body)
    return Expression(text, frozenset(names), evaluate)


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

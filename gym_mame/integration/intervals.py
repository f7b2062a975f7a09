"""Interval arithmetic for the expression language: the range of values a rule can take.

Every operator of :mod:`gym_mame.integration.expressions` has a function here that maps the
ranges of its operands to a range that holds every result the operator can give
on them, with the language's own semantics (division by zero gives 0, shifts
clamp at 64, comparisons give 0 or 1). Ranges may be unbounded (``±inf``); an
endpoint too large to matter is made infinite so that the analysis itself never
overflows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Number = int | float

LIMIT = 2**63  # every value an expression reaches must lie within ±LIMIT
_HUGE = 2**256  # endpoints past this become infinite: big enough, and far from overflow
MAX_SHIFT = 64
INF = math.inf


@dataclass(frozen=True)
class Interval:
    """Every value lies in ``[low, high]`` (``±inf``: no bound on that side); ``integral``
    says they are all whole numbers (so a divisor other than 0 is at least 1 away)."""

    low: Number
    high: Number
    integral: bool = True

    @classmethod
    def point(cls, value: Number) -> Interval:
        return cls(value, value, float(value).is_integer())

    @property
    def bounded(self) -> bool:
        """Whether every value lies within ±2**63."""
        return -LIMIT <= self.low and self.high <= LIMIT

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.low, other.low), max(self.high, other.high),
                        self.integral and other.integral)

    def contains(self, other: Interval) -> bool:
        return (self.low <= other.low and other.high <= self.high
                and (other.integral or not self.integral))

    def truth(self) -> bool | None:
        """True when no value is 0, False when all are, None when it depends."""
        if self.low == self.high == 0:
            return False
        return True if self.low > 0 or self.high < 0 else None

    def __str__(self) -> str:
        return f"[{_text(self.low)}, {_text(self.high)}]"


UNBOUNDED = Interval(-INF, INF, False)
BOOLEAN = Interval(0, 1)
_FALSE = _ZERO = Interval(0, 0)
_TRUE = Interval(1, 1)


def _text(value: Number) -> str:
    magnitude = abs(value)
    if isinstance(value, int) and magnitude >= 2**32 and magnitude & (magnitude - 1) == 0:
        return f"{'-' if value < 0 else ''}2**{magnitude.bit_length() - 1}"  # not 20 digits
    return str(value)


def make(low: Number, high: Number, integral: bool = True) -> Interval:
    """An interval whose far-out endpoints are infinite (and NaN means: unknown)."""
    if low != low or high != high:
        return UNBOUNDED
    return Interval(-INF if low < -_HUGE else low, INF if high > _HUGE else high, integral)


def hull(parts: Iterable[Interval]) -> Interval:
    result: Interval | None = None
    for part in parts:
        result = part if result is None else result.hull(part)
    return result if result is not None else _ZERO


def boolean(truth: bool | None) -> Interval:
    return BOOLEAN if truth is None else (_TRUE if truth else _FALSE)


# -- arithmetic ----------------------------------------------------------------
def _times(x: Number, y: Number) -> Number:
    return 0 if x == 0 or y == 0 else x * y  # 0 * inf is 0 here: the values are finite


def add(a: Interval, b: Interval) -> Interval:
    return make(a.low + b.low, a.high + b.high, a.integral and b.integral)


def sub(a: Interval, b: Interval) -> Interval:
    return make(a.low - b.high, a.high - b.low, a.integral and b.integral)


def mul(a: Interval, b: Interval) -> Interval:
    corners = [_times(x, y) for x in (a.low, a.high) for y in (b.low, b.high)]
    return make(min(corners), max(corners), a.integral and b.integral)


def _true_corner(x: Number, y: Number) -> Number | None:
    if math.isinf(y):
        return None if math.isinf(x) else 0.0
    if math.isinf(x):
        return x if y > 0 else -x
    return x / y


def _floor_corner(x: Number, y: Number) -> Number | None:
    if math.isinf(y):  # a finite x over a huge divisor: 0, or -1 when the signs differ
        return None if math.isinf(x) else (0 if x == 0 or (x > 0) == (y > 0) else -1)
    if math.isinf(x):
        return x if y > 0 else -x
    return x // y


def _quotient(a: Interval, b: Interval, corner: Callable[[Number, Number], Number | None],
              integral: bool) -> Interval:
    """``a / b`` or ``a // b``, where a divisor of 0 gives 0: the divisors of each sign are
    taken apart, and on each the quotient is monotonic, so its corners bound it."""
    if a.low == a.high == 0:
        return _ZERO
    parts = [_ZERO] if b.low <= 0 <= b.high else []
    gap = 1 if b.integral else 0  # the non-zero divisors nearest 0
    for low, high in ((b.low, min(b.high, -gap)), (max(b.low, gap), b.high)):
        if low > high or low == high == 0:
            continue
        if low == 0 or high == 0:  # divisors arbitrarily close to 0
            return make(-INF, INF, integral)
        corners = [corner(x, y) for x in (a.low, a.high) for y in (low, high)]
        if None in corners:
            return make(-INF, INF, integral)
        parts.append(make(min(corners), max(corners), integral))  # type: ignore[type-var]
    return hull(parts)


def truediv(a: Interval, b: Interval) -> Interval:
    return _quotient(a, b, _true_corner, False)


def floordiv(a: Interval, b: Interval) -> Interval:
    return _quotient(a, b, _floor_corner, True)


def mod(a: Interval, b: Interval) -> Interval:
    """Python's ``%`` takes the divisor's sign and is smaller than it; ``% 0`` gives 0."""
    integral = a.integral and b.integral
    parts = [_ZERO] if b.low <= 0 <= b.high else []
    if b.high > 0:
        high = b.high - 1 if integral else b.high
        parts.append(make(0, min(high, a.high) if a.low >= 0 else high, integral))
    if b.low < 0:
        low = b.low + 1 if integral else b.low
        parts.append(make(max(low, a.low) if a.high <= 0 else low, 0, integral))
    return hull(parts)


def neg(a: Interval) -> Interval:
    return make(-a.high, -a.low, a.integral)


def absolute(a: Interval) -> Interval:
    if a.low >= 0:
        return a
    if a.high <= 0:
        return neg(a)
    return make(0, max(-a.low, a.high), a.integral)


def minimum(parts: list[Interval]) -> Interval:
    return make(min(p.low for p in parts), min(p.high for p in parts),
                all(p.integral for p in parts))


def maximum(parts: list[Interval]) -> Interval:
    return make(max(p.low for p in parts), max(p.high for p in parts),
                all(p.integral for p in parts))


# -- bits ----------------------------------------------------------------------
def _int(value: Number) -> Number:
    return value if math.isinf(value) else int(value)


def truncate(a: Interval) -> Interval:
    """``int(x)``, which bitwise operators and shifts apply first."""
    return make(_int(a.low), _int(a.high))


def _bit_length(a: Interval) -> int | None:
    """The smallest ``k`` with every value in ``[-2**k, 2**k - 1]`` (None: unbounded)."""
    if math.isinf(a.low) or math.isinf(a.high):
        return None
    return max(int(a.high).bit_length(), (-int(a.low) - 1).bit_length() if a.low < 0 else 0)


def _within_bits(a: Interval, b: Interval) -> Interval:
    """Any bitwise result of operands of ``k`` bits and a sign has ``k`` bits and a sign."""
    ka, kb = _bit_length(a), _bit_length(b)
    if ka is None or kb is None:
        return make(-INF, INF)
    k = max(ka, kb)
    return make(-(1 << k), (1 << k) - 1)


def bit_and(a: Interval, b: Interval) -> Interval:
    a, b = truncate(a), truncate(b)
    if a.low >= 0 or b.low >= 0:  # a non-negative operand keeps only its own bits
        highs = [x.high for x in (a, b) if x.low >= 0]
        return make(0, min(highs))
    return _within_bits(a, b)


def bit_or(a: Interval, b: Interval) -> Interval:
    a, b = truncate(a), truncate(b)
    if a.low >= 0 and b.low >= 0:
        bits = _within_bits(a, b)
        return make(max(a.low, b.low), bits.high)
    return _within_bits(a, b)


def bit_xor(a: Interval, b: Interval) -> Interval:
    a, b = truncate(a), truncate(b)
    bits = _within_bits(a, b)
    return make(0, bits.high) if a.low >= 0 and b.low >= 0 else bits


def invert(a: Interval) -> Interval:
    a = truncate(a)
    return make(-a.high - 1, -a.low - 1)


def _shift_counts(b: Interval) -> tuple[int, int]:
    b = truncate(b)
    return (int(min(max(b.low, 0), MAX_SHIFT)), int(min(max(b.high, 0), MAX_SHIFT)))


def lshift(a: Interval, b: Interval) -> Interval:
    low, high = _shift_counts(b)
    return mul(truncate(a), Interval(1 << low, 1 << high))  # x << n is x * 2**n


def rshift(a: Interval, b: Interval) -> Interval:
    a, (low, high) = truncate(a), _shift_counts(b)
    # floor(x / 2**n): monotonic in x, and in n for either sign of x, so corners bound it
    corners = [x if math.isinf(x) else int(x) >> n for x in (a.low, a.high) for n in (low, high)]
    return make(min(corners), max(corners))


# -- comparisons ---------------------------------------------------------------
def _lt(a: Interval, b: Interval) -> bool | None:
    return True if a.high < b.low else False if a.low >= b.high else None


def _le(a: Interval, b: Interval) -> bool | None:
    return True if a.high <= b.low else False if a.low > b.high else None


def _eq(a: Interval, b: Interval) -> bool | None:
    if a.low == a.high == b.low == b.high:
        return True
    return False if a.high < b.low or b.high < a.low else None


def _not(truth: bool | None) -> bool | None:
    return None if truth is None else not truth


COMPARISONS: dict[str, Callable[[Interval, Interval], bool | None]] = {
    "Eq": _eq,
    "NotEq": lambda a, b: _not(_eq(a, b)),
    "Lt": _lt,
    "LtE": _le,
    "Gt": lambda a, b: _lt(b, a),
    "GtE": lambda a, b: _le(b, a),
}

BINARY: dict[str, Callable[[Interval, Interval], Interval]] = {
    "Add": add, "Sub": sub, "Mult": mul, "Div": truediv, "FloorDiv": floordiv, "Mod": mod,
    "BitAnd": bit_and, "BitOr": bit_or, "BitXor": bit_xor, "LShift": lshift, "RShift": rshift,
}

UNARY: dict[str, Callable[[Interval], Interval]] = {
    "USub": neg,
    "UAdd": lambda a: a,
    "Not": lambda a: boolean(_not(a.truth())),
    "Invert": invert,
}


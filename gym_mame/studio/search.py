"""Memory search, the way MAME's cheat finder narrows: pure logic, no I/O.

A search starts from a snapshot of every candidate position (each byte
offset of a memory range, or each machine-state entry), then each narrowing
step takes a new snapshot and keeps the candidates whose value passes a test
against the previous snapshot (increased, decreased, changed, unchanged, by an
amount) or against a number (equal, less-than, ...). The survivors' values
become the "previous" values of the next step.

Memory values are decoded with gym-retro's type strings (``<u2``, ``>d2``,
``|n1``, ...; see :mod:`gym_mame.integration.datatypes`) directly from the raw bytes with
numpy, at every candidate offset at once, so a first step over megabytes takes
milliseconds, not a Python loop per address. A BCD (``d``) or digit (``n``)
candidate whose bytes hold a nibble above 9 is dropped: such a value cannot be
a BCD number, and keeping it would turn e.g. 0x1A into a false match for 10.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gym_mame.integration.datatypes import DataType

MAX_SEARCH_SIZE = 4  # bytes per value; the UI offers gym-retro's 1-4

# Tests against the previous snapshot: f(new, old, amount) -> keep mask.
CHANGE_OPS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "increased": lambda new, old, _n: new > old,
    "decreased": lambda new, old, _n: new < old,
    "changed": lambda new, old, _n: new != old,
    "unchanged": lambda new, old, _n: new == old,
    "increased-by": lambda new, old, n: new - old == n,
    "decreased-by": lambda new, old, n: old - new == n,
}
# Tests against a number (the names of scenario.json's ops): f(new, number) -> keep mask.
VALUE_OPS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "equal": lambda new, n: new == n,
    "not-equal": lambda new, n: new != n,
    "less-than": lambda new, n: new < n,
    "greater-than": lambda new, n: new > n,
    "less-or-equal": lambda new, n: new <= n,
    "greater-or-equal": lambda new, n: new >= n,
}
NEEDS_OPERAND = {"increased-by", "decreased-by", *VALUE_OPS}


def search_type(text: str) -> DataType:
    """Parse a type string for searching: gym-retro's syntax, 1 to 4 bytes."""
    dtype = DataType.parse(text)
    if dtype.size > MAX_SEARCH_SIZE:
        raise ValueError(f"type {text!r}: searches use 1 to {MAX_SEARCH_SIZE} bytes per value")
    return dtype


def decode_at(data: np.ndarray, offsets: np.ndarray | None, dtype: DataType
              ) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``dtype`` at each of ``offsets`` (None: every offset) in the bytes ``data``.

    Returns ``(values, valid)``: int64 values (as :meth:`DataType.decode` gives
    them) and a mask that is False where a BCD/digit nibble is above 9."""
    size = dtype.size
    count = len(data) - size + 1 if offsets is None else len(offsets)
    # Byte k of each value, most significant first. Every offset: shifted slices
    # (views, no gather), which makes a first step over megabytes about twice as fast.
    order = range(size) if dtype.big_endian else range(size - 1, -1, -1)
    columns = [(data[k:k + count] if offsets is None else data[offsets + k]).astype(np.int64)
               for k in order]
    valid = np.ones(count, dtype=bool)
    values = np.zeros(count, dtype=np.int64)
    if dtype.kind in "ui":
        for byte in columns:
            values = (values << 8) | byte
        if dtype.kind == "i":
            sign = np.int64(1) << (8 * size - 1)
            values = np.where(values >= sign, values - (sign << 1), values)
    elif dtype.kind == "d":
        for byte in columns:
            high, low = byte >> 4, byte & 0x0F
            valid &= (high <= 9) & (low <= 9)
            values = values * 100 + high * 10 + low
    else:  # "n": one decimal digit per byte, in the low nibble
        for byte in columns:
            low = byte & 0x0F
            valid &= low <= 9
            values = values * 10 + low
    return values, valid


@dataclass
class Candidate:
    """One surviving position: its index (byte offset or entry number) and values."""

    index: int
    value: int
    previous: int


class Search:
    """A narrowing search over ``count`` positions.

    ``decode(snapshot, indices)`` turns a snapshot (whatever the caller took:
    raw bytes, an array of state values) into ``(values, valid)`` at those
    indices; :func:`memory_search` and :func:`state_search` build one."""

    def __init__(self, snapshot: np.ndarray, count: int,
                 decode: Callable[[np.ndarray, np.ndarray | None],
                                  tuple[np.ndarray, np.ndarray]]) -> None:
        self.count_positions = count
        self._decode = decode
        # None stands for "every position": the first step over a big range then
        # needs no index array as large as the range before it narrows anything.
        self._indices: np.ndarray | None = None
        self._snapshot = snapshot
        self.steps = 0
        self._undo: tuple[np.ndarray | None, np.ndarray] | None = None

    @property
    def indices(self) -> np.ndarray:
        if self._indices is None:
            return np.arange(self.count_positions, dtype=np.int64)
        return self._indices

    def __len__(self) -> int:
        return self.count_positions if self._indices is None else len(self._indices)

    def narrow(self, snapshot: np.ndarray, op: str, operand: int | None = None) -> int:
        """Keep the candidates that pass ``op``; return how many are left."""
        if op not in CHANGE_OPS and op not in VALUE_OPS:
            known = ", ".join([*CHANGE_OPS, *VALUE_OPS])
            raise ValueError(f"unknown search test {op!r}; use one of: {known}")
        if op in NEEDS_OPERAND and operand is None:
            raise ValueError(f"the test {op!r} needs a number")
        indices = self._indices
        new, new_ok = self._decode(snapshot, indices)
        if op in VALUE_OPS:
            keep = VALUE_OPS[op](new, int(operand))  # type: ignore[arg-type]
        else:
            old, old_ok = self._decode(self._snapshot, indices)
            keep = CHANGE_OPS[op](new, old, int(operand or 0)) & old_ok
        keep &= new_ok
        self._undo = (self._indices, self._snapshot)
        self._indices = np.flatnonzero(keep) if indices is None else indices[keep]
        self._snapshot = snapshot
        self.steps += 1
        return len(self._indices)

    def undo(self) -> int:
        """Take back the last narrowing step (one level, as a cheat finder's undo)."""
        if self._undo is None:
            raise ValueError("nothing to undo")
        (self._indices, self._snapshot), self._undo = self._undo, None
        self.steps -= 1
        return len(self)

    def candidates(self, snapshot: np.ndarray, limit: int = 100) -> list[Candidate]:
        """The first ``limit`` candidates with their value in ``snapshot`` and before."""
        indices = self.indices[:limit]
        new, _ = self._decode(snapshot, indices)
        old, _ = self._decode(self._snapshot, indices)
        return [Candidate(int(i), int(v), int(p)) for i, v, p in zip(indices, new, old,
                                                                     strict=True)]


def memory_search(data: bytes | np.ndarray, dtype: DataType) -> Search:
    """A search over every byte offset of ``data`` where a ``dtype`` value fits."""
    array = np.frombuffer(data, np.uint8) if isinstance(data, bytes) else data
    count = max(len(array) - dtype.size + 1, 0)

    def decode(snapshot: np.ndarray, offsets: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        if len(snapshot) != len(array):
            raise ValueError(f"snapshot has {len(snapshot)} bytes; the search covers "
                             f"{len(array)}")
        return decode_at(snapshot, offsets, dtype)

    return Search(array, count, decode)


def state_search(values: np.ndarray) -> Search:
    """A search over machine-state entries (e.g. netlist nets), compared as integers.

    Values are rounded, as a data.json ``state`` variable reads them."""
    snapshot = state_snapshot(values)

    def decode(snap: np.ndarray, indices: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        picked = snap if indices is None else snap[indices]
        return picked, np.ones(len(picked), dtype=bool)

    return Search(snapshot, len(snapshot), decode)


def state_snapshot(values: np.ndarray | list[float] | tuple[float, ...]) -> np.ndarray:
    """Turn state values into the snapshot form :func:`state_search` compares."""
    return np.rint(np.asarray(values, dtype=np.float64)).astype(np.int64)


def bytes_snapshot(data: bytes) -> np.ndarray:
    """Turn bytes read from memory into the snapshot form :func:`memory_search` compares."""
    return np.frombuffer(data, np.uint8)

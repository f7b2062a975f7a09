"""gym-retro's memory type strings, e.g. ``"|u1"``, ``">u2"``, ``"<i4"``, ``">d2"``.

A type is ``<endianness><kind><bytes>``:

* endianness: ``<`` little, ``>`` big, ``=`` or ``|`` native/irrelevant (1 byte)
* kind: ``u`` unsigned, ``i`` signed (two's complement), ``d`` binary-coded
  decimal (two digits per byte), ``n`` one decimal digit per byte (low nibble)
* bytes: how many bytes are read
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

_KINDS = "uidn"


@dataclass(frozen=True)
class DataType:
    """A parsed type string; :meth:`decode` turns raw bytes into an integer."""

    text: str
    big_endian: bool
    kind: str
    size: int

    @classmethod
    def parse(cls, text: str) -> DataType:
        if not isinstance(text, str) or len(text) < 3:
            raise ValueError(f"type {text!r} is not of the form '<u2' / '>d4' / '|u1'")
        order, kind, size_text = text[0], text[1], text[2:]
        if order not in "<>=|":
            raise ValueError(f"type {text!r}: endianness must be one of < > = |, not {order!r}")
        if kind not in _KINDS:
            raise ValueError(f"type {text!r}: kind must be one of u i d n, not {kind!r}")
        if not size_text.isdigit() or not 1 <= int(size_text) <= 8:
            raise ValueError(f"type {text!r}: size must be 1 to 8 bytes")
        big = order == ">" or (order in "=|" and sys.byteorder == "big")
        return cls(text, big, kind, int(size_text))

    def decode(self, raw: bytes | memoryview) -> int:
        data = bytes(raw) if self.big_endian else bytes(raw)[::-1]  # most significant first
        if self.kind == "u":
            return int.from_bytes(data, "big")
        if self.kind == "i":
            return int.from_bytes(data, "big", signed=True)
        # As gym-retro does: each nibble is taken modulo 10 (A-F cannot occur).
        value = 0
        if self.kind == "d":
            for byte in data:
                value = value * 100 + (byte >> 4) % 10 * 10 + (byte & 0x0F) % 10
        else:  # "n"
            for byte in data:
                value = value * 10 + (byte & 0x0F) % 10
        return value

    @property
    def bounds(self) -> tuple[int, int]:
        """Smallest and largest value :meth:`decode` can return."""
        bits = 8 * self.size
        if self.kind == "u":
            return 0, (1 << bits) - 1
        if self.kind == "i":
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if self.kind == "d":
            return 0, 100**self.size - 1
        return 0, 10**self.size - 1

"""MAME save-state files: checking one before MAME is asked to load it.

MAME 0.251 loads a state only when the current frame ends and reports the
result nowhere a script can see: a missing, truncated or damaged file "loads"
without a word, and a damaged one can be half applied. So every file that
MAME did not just write in this process is checked here first, against what
this machine's own states look like (the bridge's STATE_INFO).

The format: a 32-byte header (``MAMESAVE``, format version, flags, the system
name padded to 18 bytes, a 4-byte signature of the machine's registered state
items), then the items' bytes compressed with zlib.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from gym_mame.errors import SaveStateError

HEADER_BYTES = 32
MAGIC = b"MAMESAVE"


@dataclass(frozen=True)
class StateFormat:
    """What this machine's save states look like (from a state MAME made just now)."""

    header: bytes  # 32 bytes
    size: int  # header plus uncompressed items

    @property
    def system(self) -> str:
        return system_name(self.header)


def system_name(header: bytes) -> str:
    return header[10:28].rstrip(b"\0").decode(errors="replace")


def check(path: Path, expected: StateFormat) -> None:
    """Raise :class:`SaveStateError` unless ``path`` is a complete, undamaged save
    state of the machine ``expected`` describes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SaveStateError(f"save state {path} does not exist") from None
    except OSError as exc:
        raise SaveStateError(f"save state {path} cannot be read ({exc.strerror})") from None
    problem = _problem(data, expected)
    if problem:
        raise SaveStateError(f"save state {path} cannot be used: {problem}")


def _problem(data: bytes, expected: StateFormat) -> str:
    if len(data) < HEADER_BYTES or not data.startswith(MAGIC):
        return "it is not a MAME save state (no MAMESAVE header)"
    header = data[:HEADER_BYTES]
    if header[8] != expected.header[8]:
        return f"it is in save-state format {header[8]}, this MAME writes {expected.header[8]}"
    if system_name(header) != expected.system:
        return (f"it was saved by the machine {system_name(header)!r}, not "
                f"{expected.system!r}")
    if header[28:32] != expected.header[28:32] or header[9] != expected.header[9]:
        return ("it was saved by a differently configured machine (other slots, media "
                "or MAME version): its state items do not match this one's")
    inflate = zlib.decompressobj()
    try:
        items = inflate.decompress(data[HEADER_BYTES:], expected.size)  # bounded output
        items += inflate.flush()
    except zlib.error as exc:
        return f"its data is damaged ({exc})"
    if inflate.unconsumed_tail:
        return "it holds more state items than this machine has"
    if not inflate.eof:
        return "it is truncated (its compressed data ends early)"
    if inflate.unused_data:
        return "it has extra bytes after its data"
    if HEADER_BYTES + len(items) != expected.size:
        return (f"it holds {len(items)} bytes of state items, this machine has "
                f"{expected.size - HEADER_BYTES}")
    return ""

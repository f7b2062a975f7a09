"""Encoding of the binary request/reply protocol spoken with ``lua/bridge.lua``.

Pure functions, no I/O. Integers are little-endian; strings carry a 16-bit
length prefix. A reply starts with a status byte (0 ok, 1 error + message).
Keep in step with the opcodes at the top of ``lua/bridge.lua``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

PROTOCOL_VERSION = 1

OP_HELLO = 1
OP_DESCRIBE = 2
OP_CONFIGURE = 3
OP_STEP = 4
OP_SAVE_STATE = 5
OP_LOAD_STATE = 6
OP_READ_MEMORY = 7
OP_WRITE_MEMORY = 8
OP_SHUTDOWN = 9

STATUS_OK = 0
STATUS_ERROR = 1

STEP_WANT_PIXELS = 1
STEP_WANT_READS = 2
STEP_READS_EVERY_FRAME = 4

READ_MEMORY = 1
READ_STATE = 2
READ_ITEM = 3

_STEP_HEADER = struct.Struct("<Qd")
_SIZE = struct.Struct("<HH")


def _str(text: str) -> bytes:
    data = text.encode()
    if len(data) > 0xFFFF:
        raise ValueError(f"string too long for the protocol: {text[:40]!r}...")
    return struct.pack("<H", len(data)) + data


@dataclass(frozen=True)
class MemoryRead:
    """Read ``length`` bytes at ``address`` of address space ``space`` of ``device``."""

    device: str
    space: str
    address: int
    length: int


@dataclass(frozen=True)
class StateRead:
    """Read the value of state entry ``name`` of ``device`` (e.g. a netlist net)."""

    device: str
    name: str


@dataclass(frozen=True)
class ItemRead:
    """Read save-state item ``name`` of ``device`` (e.g. a netlist counter, ``0/ic_a3.m_cnt``)."""

    device: str
    name: str


@dataclass(frozen=True)
class StepResult:
    """What MAME sent back after a STEP."""

    frame: int
    emulated_time: float
    memory: memoryview  # all memory reads, concatenated in configure order
    state: tuple[float, ...]
    # With reads every frame: (memory, state) after each frame of the step, in order
    # (the last is ``memory``, ``state``); otherwise empty.
    frames: tuple[tuple[memoryview, tuple[float, ...]], ...]
    width: int
    height: int
    pixels: memoryview | None  # height*width*4 bytes, B, G, R, A


def hello() -> bytes:
    return struct.pack("<BH", OP_HELLO, PROTOCOL_VERSION)


def describe() -> bytes:
    return bytes([OP_DESCRIBE])


def configure(
    screen: str,
    inputs: Sequence[tuple[str, str]],
    reads: Sequence[MemoryRead | StateRead | ItemRead],
) -> bytes:
    parts = [bytes([OP_CONFIGURE]), _str(screen), struct.pack("<H", len(inputs))]
    for port, field in inputs:
        parts += [_str(port), _str(field)]
    parts.append(struct.pack("<H", len(reads)))
    for read in reads:
        if isinstance(read, MemoryRead):
            parts += [bytes([READ_MEMORY]), _str(read.device), _str(read.space),
                      struct.pack("<QI", read.address, read.length)]
        else:
            kind = READ_ITEM if isinstance(read, ItemRead) else READ_STATE
            parts += [bytes([kind]), _str(read.device), _str(read.name)]
    return b"".join(parts)


def step(segments: Sequence[tuple[int, Sequence[int]]], want_pixels: bool,
         want_reads: bool, every_frame: bool = False) -> bytes:
    """Run each ``(frames, input_values)`` segment in turn; reply after the last.

    ``every_frame`` asks for the reads after each frame, not just the last."""
    flags = ((STEP_WANT_PIXELS if want_pixels else 0) | (STEP_WANT_READS if want_reads else 0)
             | (STEP_READS_EVERY_FRAME if every_frame else 0))
    parts = [struct.pack("<BBH", OP_STEP, flags, len(segments))]
    for frames, values in segments:
        parts.append(struct.pack(f"<I{len(values)}i", frames, *values))
    return b"".join(parts)


def save_state(name: str) -> bytes:
    return bytes([OP_SAVE_STATE]) + _str(name)


def load_state(name: str) -> bytes:
    return bytes([OP_LOAD_STATE]) + _str(name)


def read_memory(device: str, space: str, address: int, length: int) -> bytes:
    return (bytes([OP_READ_MEMORY]) + _str(device) + _str(space)
            + struct.pack("<QI", address, length))


def write_memory(device: str, space: str, address: int, data: bytes) -> bytes:
    return (bytes([OP_WRITE_MEMORY]) + _str(device) + _str(space)
            + struct.pack("<QI", address, len(data)) + data)


def shutdown() -> bytes:
    return bytes([OP_SHUTDOWN])


def parse_step(body: memoryview, memory_bytes: int, state_count: int,
               want_pixels: bool, want_reads: bool, every_frame: int = 0) -> StepResult:
    """Split a STEP reply body (after the status byte); ``every_frame`` is the number
    of frames of a STEP that asked for reads every frame (0 if it did not)."""
    frame, emulated_time = _STEP_HEADER.unpack_from(body, 0)
    pos = _STEP_HEADER.size
    memory, state = body[0:0], ()
    frames = []
    for _ in range(every_frame or (1 if want_reads else 0)):
        memory = body[pos:pos + memory_bytes]
        pos += memory_bytes
        state = struct.unpack_from(f"<{state_count}d", body, pos)
        pos += 8 * state_count
        frames.append((memory, state))
    width = height = 0
    pixels = None
    if want_pixels:
        width, height = _SIZE.unpack_from(body, pos)
        pos += _SIZE.size
        pixels = body[pos:pos + width * height * 4]
        pos += width * height * 4
    if pos != len(body):
        raise ValueError(f"STEP reply has {len(body)} bytes, expected {pos}")
    return StepResult(frame, emulated_time, memory, state,
                      tuple(frames) if every_frame else (), width, height, pixels)

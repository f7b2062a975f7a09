"""Encoding of the binary request/reply protocol spoken with ``lua/bridge.lua``.

Pure functions, no I/O. Integers are little-endian; strings carry a 16-bit
length prefix. A request travels as its length, a 64-bit tag and its body
(:func:`envelope`); its reply starts with the same tag, then a status byte (0 ok,
1 error + message): a reply to a request given up on (Ctrl-C) is recognised as
such, never taken for another's.
Keep in step with the opcodes at the top of ``lua/bridge.lua``.

A STEP is a list of segments, each some frames with fixed inputs: a digital
input's value, and for an analog input a start position (NaN: where it is)
and a speed in units per frame. MAME moves analog inputs frame by frame and
gets the position rounded half to even (as Python's ``round``), so a paddle
that turns a fraction of a unit per frame costs one segment, not one per frame.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

PROTOCOL_VERSION = 3

OP_HELLO = 1
OP_DESCRIBE = 2
OP_CONFIGURE = 3
OP_STEP = 4
OP_SAVE_STATE = 5
OP_LOAD_STATE = 6
OP_READ_MEMORY = 7
OP_WRITE_MEMORY = 8
OP_SHUTDOWN = 9
OP_STATE_INFO = 10
OP_FLUSH = 11

STATUS_OK = 0
STATUS_ERROR = 1

STEP_WANT_PIXELS = 1
STEP_WANT_READS = 2
STEP_READS_EVERY_FRAME = 4

READ_MEMORY = 1
READ_STATE = 2
READ_ITEM = 3

INPUT_DIGITAL = 0
INPUT_ANALOG = 1
INPUT_DIAL = 2  # analog, but its position wraps round its range instead of stopping

U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
KEEP = math.nan  # an analog segment's start position: where the input already is

_STEP_HEADER = struct.Struct("<Qd")
_SIZE = struct.Struct("<HH")
_STEP_START = struct.Struct("<BBH")
_ENVELOPE = struct.Struct("<IQ")  # request length, tag
TAG = struct.Struct("<Q")  # the tag at the head of every reply


def _str(text: str) -> bytes:
    data = text.encode()
    if len(data) > U16_MAX:
        raise ValueError(f"string too long for the protocol: {text[:40]!r}...")
    return struct.pack("<H", len(data)) + data


@dataclass(frozen=True)
class InputSpec:
    """A MAME input field a STEP sets; analog ones are clamped to ``[low, high]``,
    ``wrap`` ones (dials) turn round it."""

    port: str
    field: str
    analog: bool = False
    low: int = 0
    high: int = 1
    wrap: bool = False


@dataclass(frozen=True)
class MemoryRead:
    """Read ``length`` bytes at ``address`` of address space ``space`` of ``device``;
    ``label`` names the variable in error messages."""

    device: str
    space: str
    address: int
    length: int
    label: str = ""


@dataclass(frozen=True)
class StateRead:
    """Read the value of state entry ``name`` of ``device`` (e.g. a netlist net)."""

    device: str
    name: str
    label: str = ""


@dataclass(frozen=True)
class ItemRead:
    """Read save-state item ``name`` of ``device`` (e.g. a netlist counter, ``0/ic_a3.m_cnt``)."""

    device: str
    name: str
    label: str = ""


Read = MemoryRead | StateRead | ItemRead


@dataclass(frozen=True)
class StepResult:
    """What MAME sent back after a STEP."""

    frame: int
    emulated_time: float
    analog: tuple[float, ...]  # each analog input's position after the step
    memory: memoryview  # all memory reads, concatenated in configure order
    state: tuple[float, ...]
    # With reads every frame: (memory, state) after each frame of the step, in order
    # (the last is ``memory``, ``state``); otherwise empty.
    frames: tuple[tuple[memoryview, tuple[float, ...]], ...]
    width: int
    height: int
    pixels: memoryview | None  # height*width*4 bytes, B, G, R, A


def envelope(tag: int, request: bytes) -> bytes:
    """A request as it goes down MAME's pipe: its length, its tag (which the reply
    echoes), its body."""
    if len(request) > U32_MAX:
        raise ValueError("request too large for the protocol")
    return _ENVELOPE.pack(len(request), tag) + request


def split_reply(frame: memoryview) -> tuple[int, memoryview]:
    """A reply's tag and the rest (status byte first); ValueError if too short."""
    if len(frame) < TAG.size:
        raise ValueError(f"a reply of {len(frame)} bytes has no tag")
    return TAG.unpack_from(frame)[0], frame[TAG.size:]


def hello() -> bytes:
    return struct.pack("<BH", OP_HELLO, PROTOCOL_VERSION)


def describe() -> bytes:
    return bytes([OP_DESCRIBE])


def _input_kind(spec: InputSpec) -> int:
    if not spec.analog:
        return INPUT_DIGITAL
    return INPUT_DIAL if spec.wrap else INPUT_ANALOG


def configure(screen: str, inputs: Sequence[InputSpec], reads: Sequence[Read]) -> bytes:
    if len(inputs) > U16_MAX or len(reads) > U16_MAX:
        raise ValueError(f"at most {U16_MAX} inputs and {U16_MAX} reads")
    parts = [bytes([OP_CONFIGURE]), _str(screen), struct.pack("<H", len(inputs))]
    for spec in inputs:
        if not (I32_MIN <= spec.low <= spec.high <= I32_MAX):
            raise ValueError(f"input {spec.port} {spec.field}: range [{spec.low}, {spec.high}] "
                             "must be 32-bit integers, min <= max")
        parts += [_str(spec.port), _str(spec.field),
                  struct.pack("<Bii", _input_kind(spec), spec.low, spec.high)]
    parts.append(struct.pack("<H", len(reads)))
    for read in reads:
        if isinstance(read, MemoryRead):
            if not (0 <= read.address <= U64_MAX and 0 < read.length <= U32_MAX):
                raise ValueError(f"variable {read.label!r}: address {read.address} / length "
                                 f"{read.length} do not fit the protocol (64 / 32 bits)")
            parts += [bytes([READ_MEMORY]), _str(read.label), _str(read.device),
                      _str(read.space), struct.pack("<QI", read.address, read.length)]
        else:
            kind = READ_ITEM if isinstance(read, ItemRead) else READ_STATE
            parts += [bytes([kind]), _str(read.label), _str(read.device), _str(read.name)]
    return b"".join(parts)


def segment_format(inputs: Sequence[InputSpec]) -> struct.Struct:
    """The layout of one STEP segment for these inputs: frames, then per input a
    digital value (i32) or an analog start position and speed (two doubles)."""
    return struct.Struct("<I" + "".join("dd" if i.analog else "i" for i in inputs))


def step(segments: Sequence[tuple[int, Sequence[float]]], layout: struct.Struct,
         want_pixels: bool, want_reads: bool, every_frame: bool = False) -> bytes:
    """Run each ``(frames, values)`` segment in turn; reply after the last. ``values``
    holds, in input order, a digital value or an analog start position and speed.

    ``every_frame`` asks for the reads after each frame, not just the last."""
    if not 0 < len(segments) <= U16_MAX:
        raise ValueError(f"a STEP has 1 to {U16_MAX} segments, not {len(segments)}")
    flags = ((STEP_WANT_PIXELS if want_pixels else 0) | (STEP_WANT_READS if want_reads else 0)
             | (STEP_READS_EVERY_FRAME if every_frame else 0))
    parts = [_STEP_START.pack(OP_STEP, flags, len(segments))]
    for frames, values in segments:
        if not 0 < frames <= U32_MAX:
            raise ValueError(f"a segment runs 1 to {U32_MAX} frames, not {frames}")
        parts.append(layout.pack(frames, *values))
    return b"".join(parts)


def save_state(name: str) -> bytes:
    return bytes([OP_SAVE_STATE]) + _str(name)


def load_state(name: str) -> bytes:
    return bytes([OP_LOAD_STATE]) + _str(name)


def state_info() -> bytes:
    return bytes([OP_STATE_INFO])


def flush() -> bytes:
    return bytes([OP_FLUSH])


def read_memory(device: str, space: str, address: int, length: int) -> bytes:
    return (bytes([OP_READ_MEMORY]) + _str(device) + _str(space)
            + struct.pack("<QI", address, length))


def write_memory(device: str, space: str, address: int, data: bytes) -> bytes:
    return (bytes([OP_WRITE_MEMORY]) + _str(device) + _str(space)
            + struct.pack("<QI", address, len(data)) + data)


def shutdown() -> bytes:
    return bytes([OP_SHUTDOWN])


def parse_step(body: memoryview, n_analog: int, memory_bytes: int, state_count: int,
               want_pixels: bool, want_reads: bool, every_frame: int = 0) -> StepResult:
    """Split a STEP reply body (after the status byte); ``every_frame`` is the number
    of frames of a STEP that asked for reads every frame (0 if it did not)."""
    frame, emulated_time = _STEP_HEADER.unpack_from(body, 0)
    pos = _STEP_HEADER.size
    analog = struct.unpack_from(f"<{n_analog}d", body, pos)
    pos += 8 * n_analog
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
    return StepResult(frame, emulated_time, analog, memory, state,
                      tuple(frames) if every_frame else (), width, height, pixels)

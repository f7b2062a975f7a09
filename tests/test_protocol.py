"""The binary protocol's Python half, as pure logic (the Lua half is tested over the bridge)."""

import math
import struct

import pytest

from gym_mame.wire import protocol
from gym_mame.wire.protocol import InputSpec

pytestmark = pytest.mark.pure  # runs without MAME

INPUTS = [InputSpec(":IN0", "Coin 1"), InputSpec(":PADDLE0", "Paddle", True, 40, 220),
          InputSpec(":IN0", "Start")]


def test_step_request_layout() -> None:
    layout = protocol.segment_format(INPUTS)
    msg = protocol.step([(3, [1, 128.0, 4.0, 0]), (1, [0, protocol.KEEP, -5.6, 1])], layout,
                        want_pixels=True, want_reads=False)
    assert msg[0] == protocol.OP_STEP
    assert msg[1] == protocol.STEP_WANT_PIXELS
    assert struct.unpack_from("<H", msg, 2) == (2,)
    assert struct.unpack_from("<Iiddi", msg, 4) == (3, 1, 128.0, 4.0, 0)
    frames, coin, position, speed, start = struct.unpack_from("<Iiddi", msg, 4 + layout.size)
    assert (frames, coin, speed, start) == (1, 0, -5.6, 1) and math.isnan(position)
    assert len(msg) == 4 + 2 * layout.size


def test_step_bounds_are_checked_before_sending() -> None:
    layout = protocol.segment_format(INPUTS)
    with pytest.raises(ValueError, match="1 to 4294967295 frames"):
        protocol.step([(2**32, [0, 0.0, 0.0, 0])], layout, True, True)
    with pytest.raises(ValueError, match="1 to 65535 segments"):
        protocol.step([], layout, True, True)


def test_parse_step_reply() -> None:
    body = (struct.pack("<Qd", 42, 0.7) + struct.pack("<d", 131.5) + b"\x01\x02\x03"
            + struct.pack("<2d", 1.0, 0.0) + struct.pack("<HH", 2, 1) + bytes(range(8)))
    result = protocol.parse_step(memoryview(body), 1, 3, 2, want_pixels=True, want_reads=True)
    assert result.frame == 42 and result.emulated_time == 0.7
    assert result.analog == (131.5,)
    assert bytes(result.memory) == b"\x01\x02\x03"
    assert result.state == (1.0, 0.0)
    assert (result.width, result.height) == (2, 1)
    assert bytes(result.pixels) == bytes(range(8))


def test_parse_step_rejects_wrong_length() -> None:
    body = struct.pack("<Qd", 1, 0.0) + b"\x00"
    with pytest.raises(ValueError, match="expected"):
        protocol.parse_step(memoryview(body), 0, 0, 0, want_pixels=False, want_reads=False)


def test_configure_encodes_inputs_and_labelled_reads() -> None:
    msg = protocol.configure(":screen", INPUTS,
                             [protocol.MemoryRead(":maincpu", "program", 0x80, 128, "ram"),
                              protocol.StateRead(":maincpu", "ic_c7.QA.net", "score")])
    assert msg[0] == protocol.OP_CONFIGURE
    assert b"Coin 1" in msg and b"ic_c7.QA.net" in msg and b"score" in msg
    assert struct.pack("<Bii", protocol.INPUT_ANALOG, 40, 220) in msg
    assert struct.pack("<QI", 0x80, 128) in msg


@pytest.mark.parametrize(("read", "problem"), [
    (protocol.MemoryRead(":maincpu", "program", 2**64, 1, "far"), "far"),
    (protocol.MemoryRead(":maincpu", "program", 0, 2**32, "long"), "long"),
    (protocol.MemoryRead(":maincpu", "program", -1, 1, "negative"), "negative"),
])
def test_configure_refuses_what_the_protocol_cannot_carry(read, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        protocol.configure("", [], [read])

"""The binary protocol's Python half, as pure logic (the Lua half is tested over the bridge)."""

import struct

import pytest

from gym_mame import protocol


def test_step_request_layout() -> None:
    msg = protocol.step([(3, [1, 0, 255]), (1, [0, 0, 7])], want_pixels=True, want_reads=False)
    assert msg[0] == protocol.OP_STEP
    assert msg[1] == protocol.STEP_WANT_PIXELS
    assert struct.unpack_from("<H", msg, 2) == (2,)
    assert struct.unpack_from("<I3i", msg, 4) == (3, 1, 0, 255)
    assert struct.unpack_from("<I3i", msg, 20) == (1, 0, 0, 7)


def test_parse_step_reply() -> None:
    body = (struct.pack("<Qd", 42, 0.7) + b"\x01\x02\x03" + struct.pack("<2d", 1.0, 0.0)
            + struct.pack("<HH", 2, 1) + bytes(range(8)))
    result = protocol.parse_step(memoryview(body), 3, 2, want_pixels=True, want_reads=True)
    assert result.frame == 42 and result.emulated_time == 0.7
    assert bytes(result.memory) == b"\x01\x02\x03"
    assert result.state == (1.0, 0.0)
    assert (result.width, result.height) == (2, 1)
    assert bytes(result.pixels) == bytes(range(8))


def test_parse_step_rejects_wrong_length() -> None:
    body = struct.pack("<Qd", 1, 0.0) + b"\x00"
    with pytest.raises(ValueError, match="expected"):
        protocol.parse_step(memoryview(body), 0, 0, want_pixels=False, want_reads=False)


def test_configure_encodes_reads() -> None:
    msg = protocol.configure(":screen", [(":IN0", "Coin 1")],
                             [protocol.MemoryRead(":maincpu", "program", 0x80, 128),
                              protocol.StateRead(":maincpu", "ic_c7.QA.net")])
    assert msg[0] == protocol.OP_CONFIGURE
    assert b"Coin 1" in msg and b"ic_c7.QA.net" in msg
    assert struct.pack("<QI", 0x80, 128) in msg

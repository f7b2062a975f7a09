import pytest

from gym_mame.integration.datatypes import DataType

pytestmark = pytest.mark.pure  # runs without MAME


@pytest.mark.parametrize(
    ("text", "raw", "value"),
    [
        ("|u1", b"\xff", 255),
        ("|i1", b"\xff", -1),
        (">u2", b"\x01\x02", 0x0102),
        ("<u2", b"\x01\x02", 0x0201),
        ("<i2", b"\x00\x80", -32768),
        (">d2", b"\x01\x23", 123),
        ("<d2", b"\x23\x01", 123),
        (">d3", b"\x12\x34\x56", 123456),
        (">n2", b"\x01\x09", 19),
        ("<n3", b"\x03\x02\x01", 123),
        (">u4", b"\x00\x01\x00\x00", 65536),
    ],
)
def test_decode(text: str, raw: bytes, value: int) -> None:
    assert DataType.parse(text).decode(raw) == value


def test_bcd_nibbles_above_nine_wrap_like_gym_retro() -> None:
    assert DataType.parse("|d1").decode(b"\x1b") == 11  # B (11) % 10 = 1


def test_bounds() -> None:
    assert DataType.parse("|u1").bounds == (0, 255)
    assert DataType.parse(">i2").bounds == (-32768, 32767)
    assert DataType.parse(">d2").bounds == (0, 9999)
    assert DataType.parse(">n3").bounds == (0, 999)


@pytest.mark.parametrize("bad", ["u1", "#u1", ">x2", ">u9", ">u", 3, ">u0"])
def test_rejects_bad_types(bad: object) -> None:
    with pytest.raises(ValueError):
        DataType.parse(bad)  # type: ignore[arg-type]

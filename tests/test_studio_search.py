"""The studio's memory search: decoding every gym-retro type at every offset, and narrowing."""

import time

import numpy as np
import pytest

from gym_mame.integration.datatypes import DataType
from gym_mame.studio.search import (
    bytes_snapshot,
    decode_at,
    memory_search,
    search_type,
    state_search,
    state_snapshot,
)

pytestmark = pytest.mark.pure  # runs without MAME

TYPES = [f"{order}{kind}{size}" for order in "<>" for kind in "uidn" for size in (1, 2, 3, 4)]


@pytest.mark.parametrize("text", TYPES)
def test_decode_at_matches_the_loaders_decoder_at_every_offset(text: str) -> None:
    dtype = DataType.parse(text)
    rng = np.random.default_rng(len(text) + ord(text[0]) + ord(text[1]))
    data = rng.integers(0, 256, 300, dtype=np.uint8)
    data[:40] = rng.integers(0, 10, 40) * 16 + rng.integers(0, 10, 40)  # valid BCD bytes too
    offsets = np.arange(len(data) - dtype.size + 1)
    values, valid = decode_at(data, offsets, dtype)
    for offset in offsets:
        raw = bytes(data[offset:offset + dtype.size])
        nibbles_ok = all((b >> 4) <= 9 and (b & 15) <= 9 for b in raw) if dtype.kind == "d" \
            else all((b & 15) <= 9 for b in raw) if dtype.kind == "n" else True
        assert valid[offset] == nibbles_ok
        if nibbles_ok:
            assert values[offset] == dtype.decode(raw), (text, offset, raw.hex())
    assert valid[:40 - dtype.size + 1].all()


def test_bcd_score_is_found_by_value_then_increased() -> None:
    ram = bytearray(128)
    ram[10] = 0x1A  # not BCD: must never match a BCD value
    ram[0x4C:0x4E] = bytes([0x00, 0x09])  # a big-endian BCD score of 9 at offset 0x4C
    search = memory_search(bytes(ram), search_type(">d2"))
    assert len(search) == 127
    assert search.narrow(bytes_snapshot(bytes(ram)), "equal", 9) == 1
    ram[0x4C:0x4E] = bytes([0x00, 0x10])  # 9 + 1 = 10 in BCD
    ram[20] = 0x99  # something else changes too
    left = search.narrow(bytes_snapshot(bytes(ram)), "increased-by", 1)
    assert left == 1 and search.candidates(bytes_snapshot(bytes(ram)))[0].index == 0x4C
    candidate = search.candidates(bytes_snapshot(bytes(ram)))[0]
    assert (candidate.value, candidate.previous) == (10, 10)  # the snapshot moved on


def test_change_tests_narrow_like_a_cheat_finder() -> None:
    before = np.array([5, 5, 5, 5, 5, 5], np.uint8)
    search = memory_search(before.tobytes(), search_type("|u1"))
    after = np.array([6, 4, 5, 7, 5, 3], np.uint8)
    assert search.narrow(after, "changed") == 4
    again = np.array([7, 4, 9, 9, 5, 3], np.uint8)
    assert search.narrow(again, "unchanged") == 2  # offsets 1 and 5
    assert [c.index for c in search.candidates(again)] == [1, 5]
    later = np.array([0, 2, 0, 0, 0, 0], np.uint8)
    assert search.narrow(later, "decreased-by", 2) == 1
    assert search.indices.tolist() == [1]


def test_undo_takes_back_one_step() -> None:
    search = memory_search(bytes([1, 2, 3]), search_type("|u1"))
    with pytest.raises(ValueError, match="nothing to undo"):
        search.undo()
    assert search.narrow(np.array([1, 9, 3], np.uint8), "unchanged") == 2
    assert search.undo() == 3
    assert search.narrow(np.array([1, 9, 3], np.uint8), "increased") == 1  # against 1 2 3
    assert search.indices.tolist() == [1]


def test_signed_values_compare_as_signed() -> None:
    data = np.array([0xFF, 0xFF, 0x01, 0x00], np.uint8)  # <i2: -1, 511, 1
    search = memory_search(data.tobytes(), search_type("<i2"))
    assert search.narrow(data, "less-than", 0) == 1
    assert search.indices.tolist() == [0]


def test_state_entries_are_searched_as_rounded_values() -> None:
    search = state_search(np.array([0.0, 3.4, 1.0, 0.2]))
    assert search.narrow(state_snapshot([1.0, 3.4, 0.0, 0.1]), "increased") == 1
    assert search.indices.tolist() == [0]


@pytest.mark.parametrize("bad", [("bogus", None), ("equal", None), ("increased-by", None)])
def test_bad_tests_are_refused_with_a_reason(bad: tuple[str, None]) -> None:
    search = memory_search(bytes(8), search_type("|u1"))
    with pytest.raises(ValueError, match="unknown search test|needs a number"):
        search.narrow(np.zeros(8, np.uint8), *bad)
    assert len(search) == 8  # a refused step narrows nothing


def test_types_outside_one_to_four_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="1 to 4 bytes"):
        search_type("<u8")
    with pytest.raises(ValueError, match="kind"):
        search_type("<x2")


def test_a_16_mib_space_is_searched_in_seconds_not_minutes() -> None:
    # About 0.2 s (|u1) to 1.4 s (<u4) on a 2-core machine; the bound leaves room for
    # a loaded CI machine while still catching a per-address Python loop (minutes).
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, 16 << 20, dtype=np.uint8)
    started = time.perf_counter()
    search = memory_search(data, search_type("<u4"))
    changed = data.copy()
    changed[::7] += 1
    left = search.narrow(changed, "changed")
    elapsed = time.perf_counter() - started
    assert 0 < left < len(data)
    assert elapsed < 15.0, f"first step over 16 MiB took {elapsed:.2f} s"

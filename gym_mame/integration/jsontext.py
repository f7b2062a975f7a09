"""Changing a few members of a JSON file's object and keeping the rest of its text as it is.

A person's metadata.json has its own layout (one line per input, a boot sequence on one
line, its key order); a tool that only records a state file's name must not rewrite it as
``json.dumps(indent=2)`` would. :func:`set_members` replaces the text of the members that
changed, adds the missing ones after the object's last member in the layout of that member,
and leaves every other character where it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class _Member:
    key: str
    key_start: int  # the key's opening quote
    key_end: int  # just after its closing quote
    value_start: int
    value_end: int


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _expect(text: str, i: int, char: str) -> int:
    if i >= len(text) or text[i] != char:
        raise ValueError(f"expected {char!r} at character {i}")
    return i + 1


def _members(text: str, start: int) -> list[_Member]:
    """The members of the object whose ``{`` is at ``start``, with their text spans."""
    i = _skip(text, _expect(text, start, "{"))
    members: list[_Member] = []
    if text[i:i + 1] == "}":
        return members
    while True:
        key_start = i
        key, i = json.decoder.scanstring(text, _expect(text, i, '"'))  # type: ignore[attr-defined]
        key_end = i
        i = _skip(text, _expect(text, _skip(text, i), ":"))
        value_start = i
        _, i = _DECODER.raw_decode(text, i)
        members.append(_Member(key, key_start, key_end, value_start, i))
        i = _skip(text, i)
        if text[i:i + 1] == "}":
            return members
        i = _skip(text, _expect(text, i, ","))


def _object_at(text: str, path: Sequence[str]) -> int:
    """Where the object at ``path`` (keys from the top-level object) starts."""
    start = _skip(text, 0)
    for depth, key in enumerate(path):
        found = next((m for m in _members(text, start) if m.key == key), None)
        if found is None or text[found.value_start] != "{":
            raise KeyError(".".join(path[:depth + 1]))
        start = found.value_start
    return start


def _set_one(text: str, start: int, key: str, value: Any) -> str:
    members = _members(text, start)
    new = json.dumps(value)
    same = next((m for m in members if m.key == key), None)
    if same is not None:
        if json.loads(text[same.value_start:same.value_end]) == value:
            return text
        return text[:same.value_start] + new + text[same.value_end:]
    if not members:
        return text[:start + 1] + f"{json.dumps(key)}: {new}" + text[start + 1:]
    last = members[-1]
    # The layout of the last member: what separates it from the one before (or from "{")
    if len(members) > 1:
        gap = text[members[-2].value_end:last.key_start]
        gap = gap[gap.index(",") + 1:]
    else:
        gap = text[start + 1:last.key_start]
        gap = gap if "\n" in gap else " "
    colon = text[last.key_end:last.value_start]
    return (text[:last.value_end] + f",{gap}{json.dumps(key)}{colon}{new}"
            + text[last.value_end:])


def set_members(text: str, path: Sequence[str], values: Mapping[str, Any]) -> str:
    """``text`` (a JSON document) with ``values`` set in the object at ``path``.

    A member whose value is already equal keeps its text; a changed one gets the new value
    in place; a new one follows the last member, laid out as it is. Raises KeyError when
    ``path`` does not lead to an object, ValueError when ``text`` is not JSON."""
    for key, value in values.items():
        text = _set_one(text, _object_at(text, path), key, value)
    return text

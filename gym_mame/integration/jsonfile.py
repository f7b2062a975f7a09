"""Reading integration JSON files with errors that name the file, the key and the problem."""

from __future__ import annotations

import json
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gym_mame.errors import IntegrationError

T = TypeVar("T")
_MISSING = object()


# Bounds of every JSON file read (integration files are a few KB and a few levels deep):
# a larger or deeper file is refused before it is parsed, so that no file can exhaust
# memory or Python's recursion limit (which would end in a RecursionError, not our error).
MAX_BYTES = 8 << 20
MAX_DEPTH = 64
# a JSON string, escapes included (an unterminated one runs to the end: linear, always)
_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def load_json(path: Path) -> Any:
    """Parse a JSON file of at most ``MAX_BYTES`` bytes and ``MAX_DEPTH`` levels of
    nesting, turning every failure into an :class:`IntegrationError` that names the file."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise IntegrationError(f"{path}: is not a regular file")
        if info.st_size > MAX_BYTES:
            raise IntegrationError(f"{path}: {info.st_size} bytes is more than a JSON file "
                                   f"here may hold ({MAX_BYTES} bytes)")
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)  # the size may grow after stat()
    except FileNotFoundError:
        raise IntegrationError(f"{path}: file is missing") from None
    except OSError as exc:
        raise IntegrationError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise IntegrationError(f"{path}: more than a JSON file here may hold "
                               f"({MAX_BYTES} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntegrationError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return loads(text, path)


def loads(text: str, source: Path | str) -> Any:
    """Parse JSON ``text`` (from ``source``, named in errors) of at most ``MAX_DEPTH``
    levels; every failure is an :class:`IntegrationError`."""
    if len(text) > MAX_BYTES:
        raise IntegrationError(f"{source}: more than a JSON file here may hold "
                               f"({MAX_BYTES} bytes)")
    if nesting(text) > MAX_DEPTH:
        raise IntegrationError(f"{source}: nested more than {MAX_DEPTH} levels deep "
                               "(not an integration file)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntegrationError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError:  # Python refuses integers of more than sys.get_int_max_str_digits()
        raise IntegrationError(f"{source}: holds a number of more than "
                               f"{sys.get_int_max_str_digits()} digits") from None


def nesting(text: str) -> int:
    """How deep the arrays and objects of JSON ``text`` nest (brackets inside strings
    are not counted), in time linear in its length (numpy adds up the brackets)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode()
    steps = np.frombuffer(brackets, np.uint8)
    return int(np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
               .max(initial=0))


WIDTH = 100  # columns of the integration files' layout


def dumps(value: object, indent: int = 0, prefix: str = "") -> str:
    """JSON in the layout of the integration files: a value that fits on one line (at most
    ``WIDTH`` columns with its key and indentation) stays on one line, others open up."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent + len(prefix) <= WIDTH or not isinstance(value, (dict, list)) \
            or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            head = json.dumps(key) + ": "
            items.append(pad + head + dumps(item, indent + 2, head))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(pad + dumps(item, indent + 2) for item in value) + "\n" \
        + " " * indent + "]"


class Node:
    """A JSON value plus where it came from, for precise error messages."""

    def __init__(self, value: Any, file: Path, where: str = "") -> None:
        self.value = value
        self.file = file
        self.where = where

    def error(self, problem: str, key: str | None = None) -> IntegrationError:
        at = self._path(key) if key is not None else (self.where or "top level")
        return IntegrationError(f"{self.file}: {at}: {problem}")

    def _path(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.where}[{key}]"
        return f"{self.where}.{key}" if self.where else str(key)

    def expect(self, kind: type | tuple[type, ...], what: str) -> Any:
        if isinstance(self.value, bool) and bool not in _as_tuple(kind):
            raise self.error(f"expected {what}, got {json.dumps(self.value)}")
        if not isinstance(self.value, kind):
            raise self.error(f"expected {what}, got {json.dumps(self.value)[:60]}")
        return self.value

    def child(self, key: str, default: Any = _MISSING) -> Node:
        """The member ``key`` of this object; missing means an error unless a default is given."""
        members = self.expect(dict, "an object")
        if key in members:
            return Node(members[key], self.file, self._path(key))
        if default is _MISSING:
            raise self.error("is required but missing", key)
        return Node(default, self.file, self._path(key))

    def items(self) -> list[tuple[str, Node]]:
        members = self.expect(dict, "an object")
        return [(k, Node(v, self.file, self._path(k))) for k, v in members.items()]

    def elements(self) -> list[Node]:
        values = self.expect(list, "a list")
        return [Node(v, self.file, self._path(i)) for i, v in enumerate(values)]

    def only_keys(self, *allowed: str) -> None:
        """Reject unknown keys (they are almost always typos)."""
        for key in self.expect(dict, "an object"):
            if key not in allowed:
                raise self.error(f"unknown key; expected one of: {', '.join(allowed)}", key)

    def text(self) -> str:
        return self.expect(str, "a string")

    def integer(self) -> int:
        """An integer, also accepted as a hex string such as "0xCC"."""
        if isinstance(self.value, str):
            try:
                return int(self.value, 0)
            except ValueError:
                raise self.error(f"expected an integer or hex string, got {self.value!r}") from None
        return self.expect(int, "an integer")

    def number(self) -> float:
        return float(self.expect((int, float), "a number"))

    def boolean(self) -> bool:
        return self.expect(bool, "true or false")

    def convert(self, parse: Callable[[Any], T]) -> T:
        """Apply ``parse``; a ValueError becomes an error at this node."""
        try:
            return parse(self.value)
        except ValueError as exc:
            raise self.error(str(exc)) from None


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)

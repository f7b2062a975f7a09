"""Reading integration JSON files with errors that name the file, the key and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from gym_mame.errors import IntegrationError

T = TypeVar("T")
_MISSING = object()


def load_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into an :class:`IntegrationError`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise IntegrationError(f"{path}: file is missing") from None
    except OSError as exc:
        raise IntegrationError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntegrationError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


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

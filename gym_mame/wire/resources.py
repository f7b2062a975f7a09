"""Where the package's data lives: the Lua bridge and the integration folders.

Both are top-level folders in the source tree (``lua/``, ``integrations/``) and
are installed as ``gym_mame/lua`` and ``gym_mame/integrations``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gym_mame's {name}/ folder is missing from the installation")


def lua_dir() -> Path:
    """The folder holding ``bridge.lua`` and its modules."""
    return _find("lua")


def integrations_dir() -> Path:
    """The folder of bundled integrations, one sub-folder per game."""
    return _find("integrations")

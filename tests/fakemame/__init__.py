"""A fake MAME at the protocol level (:mod:`fakemame.fakemame`) and its game's integration
folder, for fast tests of what stands above the bridge. :func:`install` writes an executable
that runs the fake with this Python; pass it as ``mame_path``."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GAME = HERE / "fakegame"  # the integration folder: pass it as the game


def install(folder: Path) -> Path:
    """Write ``folder/mame``, an executable that runs the fake MAME; return its path."""
    path = folder / "mame"
    path.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fakemame.py'} \"$@\"\n")
    path.chmod(0o755)
    return path

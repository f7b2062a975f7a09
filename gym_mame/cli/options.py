"""What several commands' options share: argparse types that turn a bad number into
argparse's one-line error (exit 2), and help texts."""

from __future__ import annotations

import argparse

ROM_PATH_HELP = ("folder(s) with ROM sets and cartridges, ':'-separated (default: "
                 "$GYM_MAME_ROMPATH, then ~/mame/roms and /usr/share/games/mame/roms)")


def _integer(text: str, low: int, high: int | None = None) -> int:
    """``text`` as an integer in ``[low, high]``, else argparse's one-line error (exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise argparse.ArgumentTypeError(f"must be an integer {bounds}, not {text!r}")
    return value


def positive(text: str) -> int:
    """argparse type: an integer >= 1 (counts of steps, episodes, frames, rounds)."""
    return _integer(text, 1)


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0 (seeds)."""
    return _integer(text, 0)


def tcp_port(text: str) -> int:
    """argparse type: a TCP port, 0 (any free one) to 65535."""
    return _integer(text, 0, 65535)


def size_list(text: str) -> list[int]:
    """argparse type: sub-env counts, ``1,2,4``."""
    try:
        sizes = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"not a list of sub-env counts: {text!r}")
    return sizes


def action_list(text: str) -> list[int]:
    """argparse type: action indices, ``0,3,3``."""
    try:
        actions = [int(a) for a in text.split(",") if a.strip()]
    except ValueError:
        actions = []
    if not actions or any(a < 0 for a in actions):
        raise argparse.ArgumentTypeError(f"not a list of action indices (0, 1, ...): {text!r}")
    return actions


def given(**options: object) -> dict[str, object]:
    """The options the user gave (not None): only those are passed on, so an env id's own
    defaults hold for the rest."""
    return {name: value for name, value in options.items() if value is not None}

"""The closest known names to a mistyped game, env id or machine, for one-line errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from gym_mame.errors import UnknownNameError


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` known names near ``name``: those containing it (shortest first, so
    ``breakout`` finds ``a2600-breakout``), then difflib's closest spellings. Spellings much
    worse than the best are left out: names sharing only a prefix (``a2600-``) are noise."""
    known = list(known)
    needle = name.lower()
    contains = sorted((k for k in known if needle and needle in k.lower()), key=len)
    fuzzy = difflib.get_close_matches(needle, [k.lower() for k in known], n=n, cutoff=0.6)
    lowered = {k.lower(): k for k in known}
    scores = [difflib.SequenceMatcher(None, needle, f).ratio() for f in fuzzy]
    near = [lowered[f] for f, score in zip(fuzzy, scores, strict=True)
            if score >= scores[0] - 0.1]
    return list(dict.fromkeys([*contains, *near]))[:n]


def unknown(kind: str, name: str, known: Iterable[str], hint: str) -> UnknownNameError:
    """``unknown <kind> '<name>'; closest: ...`` and what to do, on one line."""
    known = list(known)
    near = closest(name, known)
    found = f"closest: {', '.join(near)}" if near else f"no known {kind} is close"
    return UnknownNameError(f"unknown {kind} {name!r}; {found}. {hint}")

"""Where episodes start: choosing among an integration's named start states and
filling in its game options (their record and parsing are in ``gym_mame.integration``).

An env plays from one state, or from a random one of several each episode
(``state=["Level1", "Level2"]``, a common trick against overfitting to one start).
A start whose shipped file cannot be used (other options than the defaults, another
MAME version, no file) is booted once and kept in a cache folder, so the next env of
the same start loads it instead of replaying the boot.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gym_mame.integration.limits import ENV_ARGUMENTS
from gym_mame.integration.model import (
    DEFAULT_STATE,
    BootStep,
    Integration,
    Option,
    OptionStep,
    Start,
    StateSpec,
    fill_boot,
    option_text,
)
from gym_mame.integration.names import unknown
from gym_mame.integration.parse_starts import STATE_NAME

# Names of the starts' record and its parsing, kept importable from here.
__all__ = ["CACHE_FORMAT", "DEFAULT_STATE", "ENV_ARGUMENTS", "STATE_NAME", "Start",
           "StateSpec", "cache_dir", "cache_file", "choose", "chosen_options", "fill_boot",
           "mode_start"]

CACHE_FORMAT = 1  # bumped when what a cached state depends on changes


# -- choosing ----------------------------------------------------------------------
def choose(game: Integration, state: str | Sequence[str] | None,
           options: Mapping[str, Any]) -> tuple[Start, ...]:
    """The starts an env of ``game`` plays from with ``state`` (a name, several names
    to pick from at random, or None: the default) and ``options`` (name -> value)."""
    chosen = chosen_options(game, options)
    names = [game.default_state] if state is None else [state] if isinstance(state, str) \
        else list(state)
    if not names:
        raise ValueError("state= lists no states")
    starts = []
    for name in names:
        if name not in game.states:
            raise unknown("state", str(name), game.states,
                          f"{game.name}'s states: {', '.join(game.states)}")
        starts.append(_fill(game.states[name], game.options, chosen))
    return tuple(starts)


def mode_start(game: Integration, count: int, boot: Sequence[BootStep | OptionStep],
               options: Mapping[str, Any]) -> Start:
    """The start of ``count`` players' own game mode (metadata.json ``multiplayer``)."""
    return Start(f"{count}-players", fill_boot(boot, game.options,
                                               chosen_options(game, options)), None, None)


def chosen_options(game: Integration, options: Mapping[str, Any]) -> dict[str, str]:
    """Every option's value as text: the given ones (checked), else the defaults."""
    for name, value in options.items():
        if name not in game.options:
            raise TypeError(str(unknown("argument or game option", name,
                                        [*ENV_ARGUMENTS, *game.options], _options_hint(game))))
        if option_text(value) not in game.options[name].values:
            raise ValueError(f"{game.name}: option {name}={value!r} is not one of "
                             f"{', '.join(game.options[name].values)}")
    chosen = {name: opt.default for name, opt in game.options.items()}
    chosen.update({name: option_text(value) for name, value in options.items()})
    return chosen


def _fill(spec: StateSpec, options: Mapping[str, Option], chosen: Mapping[str, str]) -> Start:
    refs = {step.name for step in spec.boot if isinstance(step, OptionStep)}
    at_defaults = all(chosen[name] == options[name].default for name in refs)
    return Start(spec.name, fill_boot(spec.boot, options, chosen),
                 spec.file if at_defaults else None, spec.mame_version)


def _options_hint(game: Integration) -> str:
    if not game.options:
        return f"{game.name} has no game options"
    return f"{game.name}'s options: " + "; ".join(
        f"{o.name} (one of {', '.join(o.values)}; default {o.default})"
        for o in game.options.values())


# -- the cache of booted states ------------------------------------------------------
def cache_dir() -> Path:
    """``$GYM_MAME_CACHE``, else ``$XDG_CACHE_HOME/gym_mame``, else ``~/.cache/gym_mame``."""
    if os.environ.get("GYM_MAME_CACHE"):
        return Path(os.environ["GYM_MAME_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "gym_mame"


def cache_file(game: Integration, start: Start, mame_version: str,
               media: Sequence[str] = ()) -> Path:
    """Where the state made by ``start``'s boot is kept: named by a hash of all it
    depends on (machine, slots, media files, MAME version, the boot itself)."""
    key = json.dumps([CACHE_FORMAT, game.machine, sorted(game.slots.items()), list(media),
                      mame_version, game.memory,
                      [[s.frames, list(s.press), [list(v) for v in s.set],
                        [list(w) for w in s.write]]
                       + ([s.until.text] if s.until is not None else []) for s in start.boot]]
                     # only games with patches add them, so other games keep their keys
                     + ([[p.region, p.offset, p.data.hex()] for p in game.patches]
                        if game.patches else []))
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return cache_dir() / "states" / game.machine / f"{game.name}-{start.name}-{digest}.sta"

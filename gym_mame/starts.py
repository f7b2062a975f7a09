"""Where episodes start: an integration's named start states and its game options.

metadata.json's ``start`` is the default start; ``states`` adds named ones (gym-retro's
``Level1``, ``Level2``, ...), each a save state file and/or a boot sequence from
power-on, optionally continuing another state's boot (``from``). ``options`` are
game settings such as a difficulty or a character: each value is a list of boot
steps spliced into any boot at a step ``{"option": "<name>"}``.

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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gym_mame.jsonfile import Node
from gym_mame.names import unknown

if TYPE_CHECKING:
    from gym_mame.integration import BootStep, Integration

DEFAULT_STATE = "start"  # the name of metadata.json's "start"
STATE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$")
OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CACHE_FORMAT = 1  # bumped when what a cached state depends on changes

# The envs' arguments, which game options may not be named after.
ENV_ARGUMENTS = {
    "game", "render_mode", "obs_type", "frameskip", "repeat_action_probability",
    "max_num_frames_per_episode", "action_type", "full_action_space", "max_episode_steps",
    "noop_max", "rom_path", "mame_path", "obs_size", "transport", "timeout",
    "rebuild_start_state", "num_players", "opponents", "state", "scenario", "num_envs",
    "batch_size", "autoreset_mode", "copy", "max_restarts", "restart_window", "max_cycles",
    "seed", "options",
}


@dataclass(frozen=True)
class OptionStep:
    """A place in a boot sequence where the chosen value of option ``name`` is played."""

    name: str


@dataclass(frozen=True)
class Option:
    """A game setting: each value is the boot steps that select it."""

    name: str
    values: dict[str, tuple[BootStep, ...]]
    default: str
    description: str = ""


@dataclass(frozen=True)
class StateSpec:
    """A named start as metadata.json gives it: a boot (option steps not yet filled
    in), a save state file made by that boot with the default options, or both."""

    name: str
    boot: tuple[BootStep | OptionStep, ...]
    file: Path | None
    mame_version: str | None
    description: str = ""


@dataclass(frozen=True)
class Start:
    """A start as an env plays it: the boot with the options filled in, and the
    shipped file when it was made by exactly that boot."""

    name: str
    boot: tuple[BootStep, ...]
    file: Path | None
    mame_version: str | None


# -- parsing ---------------------------------------------------------------------
BootParser = Callable[[Node], "tuple[BootStep | OptionStep, ...]"]


def parse_state(name: str, node: Node, folder: Path, boot_steps: BootParser,
                keys: Sequence[str] = ()) -> tuple[StateSpec, str | None]:
    """One state (metadata.json ``start`` or a ``states`` entry) and the state its
    boot continues from (``from``), if any."""
    node.only_keys("state", "mame_version", "boot", "description", *keys)
    boot = tuple(step for s in node.child("boot", []).elements() for step in boot_steps(s))
    file_node = node.child("state", None)
    file = None
    if file_node.value is not None:
        if not STATE_NAME.match(file_node.text()) or ".." in file_node.text():
            raise file_node.error("must be a file name in the integration folder, "
                                  "e.g. \"start.sta\"")
        file = folder / file_node.text()
    parent = node.child("from", None) if "from" in keys else Node(None, node.file)
    if file is None and not boot and parent.value is None:
        raise node.error("needs a \"state\" file or a \"boot\" sequence to start from")
    version = node.child("mame_version", None).value
    return (StateSpec(name, boot, file, str(version) if version is not None else None,
                      node.child("description", "").text()),
            parent.text() if parent.value is not None else None)


def parse_states(start: Node, states: Node, default: Node, folder: Path,
                 boot_steps: BootParser) -> tuple[dict[str, StateSpec], str]:
    """metadata.json ``start``, ``states`` and ``default_state``: every named state
    (``from`` chains resolved into whole boots) and the default's name."""
    specs: dict[str, StateSpec] = {}
    parents: dict[str, str | None] = {}
    if start.value is not None:
        specs[DEFAULT_STATE], parents[DEFAULT_STATE] = parse_state(
            DEFAULT_STATE, start, folder, boot_steps)
    for name, node in states.items():
        if not STATE_NAME.match(name) or name == DEFAULT_STATE:
            raise states.error(f"{name!r}: a state name is letters, digits and _ . + - "
                               f"(and \"{DEFAULT_STATE}\" is the \"start\" key's)", name)
        specs[name], parents[name] = parse_state(name, node, folder, boot_steps, ("from",))
    if not specs:
        raise start.error("is required (or name start states under \"states\")")
    for name, parent in parents.items():
        if parent is not None and parent not in specs:
            raise states.error(f"continues from {parent!r}, which is not a state",
                               f"{name}.from")

    def whole_boot(name: str, seen: tuple[str, ...] = ()) -> tuple[BootStep | OptionStep, ...]:
        if name in seen:
            raise states.error(f"\"from\" goes round in a circle: {' -> '.join((*seen, name))}")
        parent = parents[name]
        own = specs[name].boot
        return own if parent is None else whole_boot(parent, (*seen, name)) + own

    specs = {name: replace(spec, boot=whole_boot(name)) for name, spec in specs.items()}
    chosen = default.text() if default.value is not None else DEFAULT_STATE
    if chosen not in specs:
        raise (default if default.value is not None else start).error(
            f"the default state {chosen!r} is not defined; states: {', '.join(specs)}")
    return specs, chosen


def parse_options(node: Node, boot_steps: BootParser, reserved: set[str]) -> dict[str, Option]:
    """metadata.json ``options``: ``{"difficulty": {"values": {"1": [steps], ...},
    "default": "4", "description": "..."}}``."""
    options = {}
    for name, spec in node.items():
        if not OPTION_NAME.match(name) or name in reserved:
            raise node.error(f"{name!r}: an option name is lower-case letters, digits and _, "
                             "starting with a letter, and not an env argument's name", name)
        spec.only_keys("values", "default", "description")
        values = {}
        for value, steps in spec.child("values").items():
            values[value] = tuple(step for s in steps.elements() for step in boot_steps(s))
            if any(isinstance(step, OptionStep) for step in values[value]):
                raise steps.error("an option's steps cannot use other options")
        if not values:
            raise spec.error("needs at least one value", "values")
        default = spec.child("default")
        text = _value_text(default.value)
        if text not in values:
            raise default.error(f"{default.value!r} is not one of the values "
                                f"({', '.join(values)})")
        options[name] = Option(name, values, text, spec.child("description", "").text())
    return options


def check_option_steps(boots: Mapping[str, Sequence[BootStep | OptionStep]],
                       options: Mapping[str, Option], where: Node) -> None:
    """Every option step names an option, and every option is used by some boot."""
    used = set()
    for owner, boot in boots.items():
        for step in boot:
            if isinstance(step, OptionStep):
                if step.name not in options:
                    raise where.error(f"{owner}: boot step {{\"option\": {step.name!r}}} names "
                                      "no option under \"options\"")
                used.add(step.name)
    for name in options:
        if name not in used:
            raise where.error(f"option {name!r} is used by no boot sequence (add a step "
                              f"{{\"option\": \"{name}\"}} where its steps are played)",
                              "options")


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
        if _value_text(value) not in game.options[name].values:
            raise ValueError(f"{game.name}: option {name}={value!r} is not one of "
                             f"{', '.join(game.options[name].values)}")
    chosen = {name: opt.default for name, opt in game.options.items()}
    chosen.update({name: _value_text(value) for name, value in options.items()})
    return chosen


def fill_boot(boot: Sequence[BootStep | OptionStep], options: Mapping[str, Option],
              chosen: Mapping[str, str]) -> tuple[BootStep, ...]:
    """``boot`` with each option step replaced by the chosen value's steps."""
    out: list[BootStep] = []
    for step in boot:
        if isinstance(step, OptionStep):
            out.extend(options[step.name].values[chosen[step.name]])
        else:
            out.append(step)
    return tuple(out)


def _fill(spec: StateSpec, options: Mapping[str, Option], chosen: Mapping[str, str]) -> Start:
    refs = {step.name for step in spec.boot if isinstance(step, OptionStep)}
    at_defaults = all(chosen[name] == options[name].default for name in refs)
    return Start(spec.name, fill_boot(spec.boot, options, chosen),
                 spec.file if at_defaults else None, spec.mame_version)


def _value_text(value: Any) -> str:
    """Option values are matched as text, so ``difficulty=3`` finds ``"3"``."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


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

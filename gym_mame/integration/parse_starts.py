"""Parsing metadata.json's starts: ``start``, named ``states`` (``from`` chains resolved
into whole boots), ``default_state`` and game ``options``.

metadata.json's ``start`` is the default start; ``states`` adds named ones (gym-retro's
``Level1``, ``Level2``, ...), each a save state file and/or a boot sequence from
power-on, optionally continuing another state's boot (``from``). ``options`` are
game settings such as a difficulty or a character: each value is a list of boot
steps spliced into any boot at a step ``{"option": "<name>"}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from gym_mame.integration.jsonfile import Node
from gym_mame.integration.model import (
    DEFAULT_STATE,
    BootStep,
    Option,
    OptionStep,
    StateSpec,
    option_text,
)

STATE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}\Z")
OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")  # a game option's (not MAME's)

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
        text = option_text(default.value)
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


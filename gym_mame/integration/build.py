"""Integrations made or changed in code: a bare machine scripted with the Emulator, more
inputs and variables given as arguments, and a game playing one of its action sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from gym_mame.errors import IntegrationError
from gym_mame.integration.jsonfile import Node
from gym_mame.integration.limits import MACHINE_NAME
from gym_mame.integration.model import DEFAULT_STATE, Action, Integration, Start
from gym_mame.integration.parse import parse_inputs, parse_variable
from gym_mame.integration.scenario import Scenario


def bare(machine: str) -> Integration:
    """An integration of nothing but ``machine``: no inputs, variables or rules yet,
    starting at power-on (for the studio, the tools and scripting)."""
    if not MACHINE_NAME.match(machine):
        raise IntegrationError(f"{machine!r} is not a MAME machine name (1-32 lower-case "
                               "letters, digits and _, e.g. pong or a2600)")
    return Integration(
        name=machine, folder=Path("."), machine=machine, title=machine, verified=False,
        notes="", rom_set=None, cartridge=None, players=1, screen="", ram=(),
        memory=(":maincpu", "program"), inputs={}, nudges={}, buttons=(),
        actions=(Action("NOOP", ()),), full_actions=None, action_groups=(), slots={},
        states={}, default_state=DEFAULT_STATE, options={},
        starts=(Start(DEFAULT_STATE, (), None, None),), opponent=None, crop=None,
        obs_size=None, render_fps=None, display_aspect=None, defaults={}, variables={},
        scenario=Scenario())


def extended(game: Integration, inputs: Mapping[str, object],
             variables: Mapping[str, object]) -> Integration:
    """``game`` with more (or replaced) inputs and variables, given in metadata.json's
    and data.json's forms; a digital input may be written ``(port, field)``."""
    where = Path("<Emulator arguments>")
    specs = {name: ({"port": value[0], "field": value[1]} if isinstance(value, (tuple, list))
                    else value) for name, value in inputs.items()}
    new_inputs, new_nudges = parse_inputs(Node(specs, where, "inputs"))
    all_inputs = {**game.inputs, **new_inputs}
    for nudge in new_nudges.values():
        if nudge.target not in all_inputs or not all_inputs[nudge.target].analog:
            raise IntegrationError(f"{where}: inputs.{nudge.name}: nudges {nudge.target!r}, "
                                   "which is not an analog input")
    device, space = game.memory
    new_variables = {name: parse_variable(name, spec, device, space, where)
                     for name, spec in variables.items()}
    return replace(game, inputs=all_inputs, nudges={**game.nudges, **new_nudges},
                   variables={**game.variables, **new_variables})


def action_set(game: Integration, name: str | None) -> tuple[Action, ...]:
    """The discrete actions of ``game``'s action set ``name`` (metadata.json
    ``action_sets``); ``name`` None: its default actions."""
    if name is None:
        return game.actions
    if name not in game.action_sets:
        sets = ", ".join(game.action_sets) or "none"
        raise IntegrationError(f"{game.name} has no action set {name!r}; its action sets: "
                               f"{sets}")
    return game.action_sets[name]


"""The studio's inputs: named buttons and analog controls, and the default key map.

An integration names its inputs (``UP``, ``FIRE``, nudges such as pong's
``UP`` moving ``PADDLE``). A bare machine has only MAME's port fields, so each
field gets a name in the integration style (``P1 Button 1`` -> ``BUTTON_1``,
``P2 Up`` -> ``P2_UP``) and each analog field two nudge buttons
(``PADDLE_UP``/``PADDLE_DOWN``). These names end up in metadata.json.
"""

from __future__ import annotations

import re
from typing import Any

from gym_mame.integration import Input, Integration, Nudge
from gym_mame.integration.write import input_json, nudge_json

NUDGE_SPEED = 4  # analog units per frame while a nudge key is held (pong's choice)
Control = Input | Nudge  # a button or analog field, or a nudge button (the loader's kinds)


def kind(spec: Control) -> str:
    """``"digital"``, ``"analog"`` or ``"nudge"`` (what the page shows)."""
    if isinstance(spec, Nudge):
        return "nudge"
    return "analog" if spec.analog else "digital"


def metadata(spec: Control) -> dict[str, Any]:
    """An input as a metadata.json ``inputs`` entry: the integration writer's form."""
    return nudge_json(spec) if isinstance(spec, Nudge) else input_json(spec)


def field_name(field: str) -> str:
    """An integration-style name for a MAME field: ``P1 Button 1`` -> ``BUTTON_1``."""
    name = re.sub(r"^P1 ", "", field)
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "INPUT"


def from_integration(game: Integration) -> dict[str, Control]:
    """The integration's inputs and nudges, by name."""
    return {**game.inputs, **game.nudges}


def from_description(description: dict[str, Any],
                     known: dict[str, Control] | None = None) -> dict[str, Control]:
    """Every field of every input port, named; ``known`` inputs keep their names."""
    inputs = dict(known or {})
    taken = {(i.port, i.field) for i in inputs.values() if isinstance(i, Input)}
    for port in description.get("ports", []):
        for f in port["fields"]:
            if (port["tag"], f["name"]) in taken:
                continue
            name = field_name(f["name"])
            if name in inputs:  # same field name on two ports
                name = f"{field_name(port['tag'])}_{name}"
            if f.get("analog"):
                low, high = int(f.get("min", 0)), int(f.get("max", 255))
                initial = min(max(int(f.get("default", (low + high) // 2)), low), high)
                inputs[name] = Input(name, port["tag"], f["name"], True, low, high, initial)
                step = max(1, min(NUDGE_SPEED, (high - low) // 32 or 1))
                for suffix, sign in (("UP", 1), ("DOWN", -1)):
                    nudge = f"{name}_{suffix}"
                    if nudge not in inputs:
                        inputs[nudge] = Nudge(nudge, name, sign * step)
            else:
                inputs[name] = Input(name, port["tag"], f["name"])
    return inputs


# Keyboard codes (KeyboardEvent.code) for common input names, first match wins.
_DEFAULT_KEYS = [
    ("ArrowUp", ["UP", "P1_UP", "PADDLE_UP"]),
    ("ArrowDown", ["DOWN", "P1_DOWN", "PADDLE_DOWN"]),
    ("ArrowLeft", ["LEFT", "P1_LEFT"]),
    ("ArrowRight", ["RIGHT", "P1_RIGHT"]),
    ("Space", ["FIRE", "BUTTON_1", "BUTTON"]),
    ("KeyZ", ["BUTTON_1", "FIRE"]),
    ("KeyX", ["BUTTON_2"]),
    ("KeyC", ["BUTTON_3"]),
    ("KeyA", ["BUTTON_4"]),
    ("KeyS", ["BUTTON_5"]),
    ("KeyD", ["BUTTON_6"]),
    ("Enter", ["START", "1_PLAYER_START", "1_PLAYERS_START", "RESET_GAME", "RESET"]),
    ("Digit1", ["1_PLAYER_START", "1_PLAYERS_START", "START"]),
    ("Digit5", ["COIN", "COIN_1"]),
    ("F2", ["RESET_GAME", "RESET"]),
    ("F3", ["SELECT_GAME", "SELECT"]),
]


def default_keymap(inputs: dict[str, Control]) -> dict[str, str]:
    """Key code -> input name for the inputs that have an obvious key."""
    keymap: dict[str, str] = {}
    for key, names in _DEFAULT_KEYS:
        for name in names:
            if name in inputs and kind(inputs[name]) != "analog":
                keymap[key] = name
                break
    return keymap

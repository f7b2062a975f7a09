"""Writing what was found in the studio as an integration folder.

The studio's files start from the integration it opened, as the one serializer
(``gym_mame.integration.write``) writes that record (the Session keeps it so), with
the studio's inputs, actions, start, variables and scenario put in, and are laid out
by the same serializer. The folder is written next to its destination first and
checked with the same loader ``gymnasium.make`` uses; only a folder that loads
replaces the destination, so a mistake never leaves a half-written game behind.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gym_mame import integration as integrations
from gym_mame.errors import IntegrationError
from gym_mame.integration import Nudge
from gym_mame.integration.write import write_files
from gym_mame.runtime.starts import DEFAULT_STATE
from gym_mame.studio import inputs as studio_inputs
from gym_mame.studio.session import Session, StudioError

GAME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
START_FILE = "start.sta"


def build_files(session: Session, name: str, slot: str, actions: Any,
                title: str | None = None) -> tuple[dict[str, Any], dict[str, Any], Any, Path]:
    """metadata.json, data.json and scenario.json contents, and the start state file."""
    with session.lock:
        if slot not in session.slots:
            raise StudioError(f"no saved state {slot!r} to start from: save one first")
        state = session.emulator.state_file(f"studio-{slot}")
        history = session.slots[slot].history
        if not isinstance(actions, list) or not actions or actions[0] != []:
            raise StudioError("actions: a JSON list of button lists, NOOP ([]) first, "
                              'e.g. [[], ["FIRE"], ["LEFT"]]')
        used: list[str] = []
        for combo in actions:
            names = combo.get("buttons", []) if isinstance(combo, dict) else combo
            if not isinstance(names, list):
                raise StudioError(f"actions: {combo!r} is not a list of input names")
            used += [n for n in names if isinstance(n, str)]
        for step in history or []:
            used += list(step.get("press", [])) + list(step.get("set", {}))
        used += list(session.keymap.values()) + list(session.active)
        names = list(dict.fromkeys(_integration_inputs(session) + used))
        for n in names:  # a nudge needs its analog input defined too
            spec = session.inputs.get(n)
            if isinstance(spec, Nudge) and spec.target not in names:
                names.append(spec.target)
        unknown = [n for n in names if n not in session.inputs]
        if unknown:
            raise StudioError(f"actions use unknown input(s): {', '.join(unknown)}")
        metadata = dict(session.metadata_base)
        metadata["machine"] = session.machine
        metadata["title"] = title or metadata.get("title") or f"{name} ({session.machine})"
        if session.cartridge is not None:
            metadata["cartridge"] = session.cartridge
        if session.machine_slots:
            metadata["slots"] = dict(session.machine_slots)
        if session.screen:
            metadata["screen"] = session.screen
        old_inputs = metadata.get("inputs", {})
        metadata["inputs"] = {n: old_inputs.get(n, studio_inputs.metadata(session.inputs[n]))
                              for n in names}
        metadata["actions"] = actions
        metadata["start"] = {"state": START_FILE, "mame_version": session.mame_version}
        if history is not None:
            metadata["start"]["boot"] = [dict(step) for step in history]
        if "default_state" in metadata:  # episodes begin at the start written here
            metadata["default_state"] = DEFAULT_STATE
        data = {"info": dict(session.variable_specs)}
        scenario = json.loads(session.scenario_text)
        return metadata, data, scenario, state


def _integration_inputs(session: Session) -> list[str]:
    """Every input the integration the session started from defines, as its loader read
    them: its multiplayer players, opponent, states and options name inputs the actions
    need not use, and the folder written must define them all to load."""
    game = session.game
    return [] if game is None else [*game.inputs, *game.nudges]


def write_integration(session: Session, folder: str | Path, slot: str, actions: Any,
                      overwrite: bool = False, title: str | None = None) -> Path:
    """Write and check ``folder`` (its name is the game's name); return its path."""
    folder = Path(folder).expanduser().resolve()
    if not GAME_NAME.match(folder.name):
        raise StudioError(f"{folder.name!r} cannot be a game name: use letters, digits, "
                          "- . or _ (it becomes Mame/<name>-v0)")
    if folder.exists() and not overwrite:
        raise StudioError(f"{folder} already exists; tick 'overwrite' to replace it")
    metadata, data, scenario, state = build_files(session, folder.name, slot, actions, title)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent)) / folder.name
    try:
        staging.mkdir()
        write_files(staging, {"metadata.json": metadata, "data.json": data,
                              "scenario.json": scenario})
        shutil.copyfile(state, staging / START_FILE)
        try:
            integrations.load(staging)
        except IntegrationError as exc:
            raise StudioError(f"the folder would not load: {exc}".replace(str(staging),
                                                                          str(folder))) from None
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return folder

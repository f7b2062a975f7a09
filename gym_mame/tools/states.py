"""Start states rebuilt from their boot sequences (``gym-mame make-state``): the boot
played in MAME, the state saved into the integration folder, and metadata.json told of
the new file and the MAME version that made it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gym_mame.integration import Integration
    from gym_mame.runtime.starts import Start


@dataclass(frozen=True)
class MadeState:
    """A start state written: its file and the MAME version that made it."""

    file: Path
    mame_version: str


def start_to_make(game: Integration, state: str | None = None) -> Start:
    """The start that rebuilds ``state`` of ``game`` (default: its default state); a
    ``ValueError`` saying why when there is no such state or it has no boot sequence."""
    from gym_mame.runtime.starts import choose

    name = state or game.default_state
    if name not in game.states:
        raise ValueError(f"{game.name} has no state {name!r}; its states: "
                         f"{', '.join(game.states)}")
    start = choose(game, name, {})[0]
    if not start.boot:
        raise ValueError(f"{game.name}: state {name!r} has no boot sequence in metadata.json")
    return start


def make_state(game: Integration, start: Start, rom_path: str | None = None) -> MadeState:
    """Play ``start``'s boot (:func:`start_to_make`) in MAME, save the state over the
    folder's file of that state (``<name>.sta`` when it has none yet), and set the state's
    ``state`` and ``mame_version`` in metadata.json, the rest of the file as it was."""
    from gym_mame.integration import folder_file
    from gym_mame.integration.jsontext import set_members
    from gym_mame.runtime.emulator import START_STATE, Emulator
    from gym_mame.runtime.starts import DEFAULT_STATE

    # written through no link out of the folder (one named <state>.sta may wait there)
    state_file = folder_file(game.folder, start.file.name if start.file is not None
                             else f"{start.name}.sta")
    env = Emulator(game, rom_path=rom_path, starts=(start,))
    try:
        env.prepare_start(rebuild=True)
        shutil.copyfile(env.state_file(START_STATE), state_file)
        # only the two keys change; the rest of the user's file stays as they wrote it
        meta_path = game.folder / "metadata.json"
        text = meta_path.read_text()
        where = ["start"] if start.name == DEFAULT_STATE else ["states", start.name]
        edited = set_members(text, where, {"state": state_file.name,
                                           "mame_version": env.mame_version})
        if edited != text:
            meta_path.write_text(edited)
    finally:
        env.close()
    return MadeState(state_file, env.mame_version)

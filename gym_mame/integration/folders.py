"""Finding integration folders and the files in them.

Folders are found in the bundled ``integrations/`` and in every folder listed
in ``$GYM_MAME_INTEGRATIONS`` (``os.pathsep``-separated). Those user folders
are searched first, so a user's folder overrides a bundled one of the same name.
"""

from __future__ import annotations

import os
from pathlib import Path

from gym_mame.errors import IntegrationError
from gym_mame.integration.limits import FILE_NAME
from gym_mame.integration.names import unknown
from gym_mame.wire.resources import integrations_dir

# Files of a folder that are not scenarios.
NOT_SCENARIOS = ("metadata.json", "data.json")


def folder_file(folder: Path, name: str, where: str | None = None) -> Path:
    """``folder / name``, the file of an integration folder called ``name``; refused
    when it is a link that leads out of the folder (a downloaded folder must not make
    gym_mame read or write files elsewhere) or something other than a regular file (a
    named pipe would block its reader). A missing file is returned as it is: its user
    says what it needed. ``where`` names the key that gave the name, for the error."""
    path = folder / name
    at = where or str(folder)
    try:
        real, inside = path.resolve(), folder.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise IntegrationError(f"{at}: {name} cannot be followed ({exc})") from None
    if not real.is_relative_to(inside):
        raise IntegrationError(f"{at}: {name} is a link to {real}, outside the integration "
                               f"folder {inside}; copy the file into the folder instead")
    if path.exists() and not path.is_file():
        raise IntegrationError(f"{at}: {name} is not a regular file")
    return path


def user_search_paths() -> list[Path]:
    """The user's folders of integrations: ``$GYM_MAME_INTEGRATIONS``."""
    return [Path(p) for p in os.environ.get("GYM_MAME_INTEGRATIONS", "").split(os.pathsep) if p]


def search_paths() -> list[Path]:
    """Folders searched for integrations: ``$GYM_MAME_INTEGRATIONS`` first, then the bundled one."""
    return [*user_search_paths(), integrations_dir()]


def find_folders() -> dict[str, Path]:
    """Map game name to folder, for every folder that has a ``metadata.json``."""
    found: dict[str, Path] = {}
    for root in search_paths():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if (folder / "metadata.json").is_file() and folder.name not in found:
                found[folder.name] = folder
    return found



def find_folder(name_or_folder: str | os.PathLike[str]) -> Path | None:
    """The integration folder a game name or folder path names, or None: a folder with a
    ``metadata.json``, else a game of :func:`find_folders`."""
    folder = Path(name_or_folder)
    if (folder / "metadata.json").is_file():
        return folder
    return find_folders().get(str(name_or_folder))


def game_folder(name_or_folder: str | os.PathLike[str]) -> Path:
    """:func:`find_folder`, an unknown name being an error that suggests close ones."""
    folder = find_folder(name_or_folder)
    if folder is None:
        folders = find_folders()
        raise unknown("game", str(name_or_folder), folders,
                      f"`gym-mame list` shows all {len(folders)}; a new game is a folder "
                      "with metadata.json, data.json and scenario.json in "
                      "$GYM_MAME_INTEGRATIONS")
    return folder


def scenario_names(folder: Path) -> list[str]:
    """The scenario names of ``folder``, ``scenario`` first: its JSON files besides
    metadata.json and data.json (as ``retro.data.list_scenarios``)."""
    names = sorted(p.stem for p in folder.glob("*.json") if p.name not in NOT_SCENARIOS)
    return sorted(names, key=lambda n: n != "scenario")


def scenario_file(folder: Path, scenario: str | os.PathLike[str] | None) -> Path:
    """The file of ``scenario``: a scenario name of ``folder`` (None: ``scenario``),
    or a path to a scenario file."""
    if scenario is None:
        return folder_file(folder, "scenario.json")
    text = os.fspath(scenario)
    if FILE_NAME.match(text) and not text.endswith(".json"):
        path = folder_file(folder, f"{text}.json")
        if path.is_file() and path.name not in NOT_SCENARIOS:
            return path
        raise unknown("scenario", text, scenario_names(folder),
                      f"{folder.name}'s scenarios are the JSON files of its folder besides "
                      "metadata.json and data.json; or give a path to a scenario file")
    path = Path(text)
    if not path.is_file():
        raise IntegrationError(f"scenario file {path} does not exist; give a scenario's "
                               f"name ({', '.join(scenario_names(folder))}) or a path to one")
    return path

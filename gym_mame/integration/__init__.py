"""Integration folders: one per game, data only, in the style of gym-retro.

The package has one job per module:

- ``model``: the record (:class:`Integration` and its parts), frozen dataclasses;
- ``limits``: what the names and sizes in a folder may be;
- ``folders``: finding folders (bundled, ``$GYM_MAME_INTEGRATIONS``) and their files;
- ``ale``: the ALE's action table (``"full_actions": "ale"``);
- ``parse`` and ``parse_starts``: a folder's JSON files -> the record (the one parser);
- ``write``: the record -> a folder's JSON files (the one serializer, which the studio
  writes through);
- ``build``: integrations made or changed in code.

The names below are those the rest of gym_mame and its users import from here.
"""

from __future__ import annotations

from gym_mame.integration.ale import ALE_ACTIONS
from gym_mame.integration.build import action_set, bare, extended
from gym_mame.integration.folders import (
    NOT_SCENARIOS,
    find_folder,
    find_folders,
    folder_file,
    game_folder,
    scenario_names,
    search_paths,
    user_search_paths,
)
from gym_mame.integration.limits import (
    ACTION_SET_NAME,
    ANALOG_LIMIT,
    ENV_ARGUMENTS,
    FILE_NAME,
    FRAMES_LIMIT,
    LENGTH_LIMIT,
    MACHINE_NAME,
    MAX_BOOT_STEPS,
    OPTION_NAME,
    PACKAGE_DIR,
    PACKAGE_NAME,
    PETTINGZOO_NAME,
    check_slot,
)
from gym_mame.integration.model import (
    DEFAULT_STATE,
    Action,
    BootStep,
    Bounds,
    Cartridge,
    Input,
    Integration,
    MemoryVariable,
    Nudge,
    Opponent,
    Option,
    OptionStep,
    Patch,
    PlayerSpec,
    Start,
    StateSpec,
    StateVariable,
    Team,
    Variable,
    fill_boot,
    save_item_range,
)
from gym_mame.integration.parse import (
    DEFAULTABLE,
    list_options,
    list_scenarios,
    list_states,
    load,
    parse_variable,
)
from gym_mame.wire.resources import integrations_dir

__all__ = [
    "ACTION_SET_NAME", "ALE_ACTIONS", "ANALOG_LIMIT", "DEFAULTABLE", "DEFAULT_STATE",
    "ENV_ARGUMENTS", "FILE_NAME", "FRAMES_LIMIT", "LENGTH_LIMIT", "MACHINE_NAME",
    "MAX_BOOT_STEPS", "NOT_SCENARIOS", "OPTION_NAME", "PACKAGE_DIR", "PACKAGE_NAME",
    "PETTINGZOO_NAME", "Action", "BootStep", "Bounds", "Cartridge", "Input", "Integration",
    "MemoryVariable", "Nudge", "Opponent", "Option", "OptionStep", "Patch", "PlayerSpec",
    "Start", "StateSpec", "StateVariable", "Team", "Variable", "action_set", "bare", "check_slot",
    "extended", "fill_boot", "find_folder", "find_folders", "folder_file", "game_folder",
    "integrations_dir", "list_options", "list_scenarios", "list_states", "load",
    "parse_variable", "save_item_range", "scenario_names", "search_paths",
    "user_search_paths",
]

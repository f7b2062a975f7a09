"""What the values of an integration folder may be: the names that reach MAME's command
line (MAME's short names, never options; mameinfo checks them against the machine too),
the names of Python packages and PettingZoo envs, and the sizes the protocol carries."""

from __future__ import annotations

import re

MACHINE_NAME = re.compile(r"^[a-z0-9_]{1,32}\Z")
ACTION_SET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}\Z")
OPTION_NAME = re.compile(r"^[a-z0-9_]{1,32}\Z")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}\Z")  # a file in a folder, no path
# a relative folder of names like FILE_NAME ("data/stable/Airstriker-Genesis-v0"), no ".."
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}"
PACKAGE_DIR = re.compile(rf"^{_PART}(/{_PART}){{0,7}}\Z")
# a Python package, dotted ("ale_py", "stable_retro"): looked up in the installed
# distributions' file lists, never imported (gym_mame.runtime.roms)
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
PACKAGE_NAME = re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER}){{0,7}}\Z")
# one of PettingZoo's env names ("boxing_v2"): a module of pettingzoo.atari
PETTINGZOO_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}_v[0-9]{1,3}\Z")
LENGTH_LIMIT = 1 << 32
FRAMES_LIMIT = 1 << 32  # frames of one boot step (one protocol segment)
ANALOG_LIMIT = 1 << 31  # analog ranges are 32-bit signed
MAX_BOOT_STEPS = 1_000_000

# The envs' arguments, which game options may not be named after.
ENV_ARGUMENTS = {
    "game", "render_mode", "obs_type", "frameskip", "repeat_action_probability",
    "max_num_frames_per_episode", "action_type", "full_action_space", "max_episode_steps",
    "noop_max", "rom_path", "mame_path", "obs_size", "transport", "timeout",
    "rebuild_start_state", "num_players", "opponents", "state", "scenario", "num_envs",
    "batch_size", "autoreset_mode", "copy", "max_restarts", "restart_window", "max_cycles",
    "seed", "options", "action_set",
}


def check_slot(name: str, value: str) -> None:
    """ValueError unless ``name=value`` is a MAME slot option (both MAME names, e.g.
    ``joyport1=pad``): it becomes ``-<name> <value>`` on MAME's command line."""
    if not (OPTION_NAME.match(name) and OPTION_NAME.match(value)):
        raise ValueError(f"slot option {name}={value} is not of the form joyport1=pad (a "
                         "slot and its option are MAME names: lower-case letters, digits "
                         "and _)")

"""What MAME says about a machine (``mame -listxml``): its slots and media, and
the check that a MAME command line built from an integration holds names, not options.

MAME's command line mixes machine options with its own (``-wavwrite FILE``
writes a file, ``-listxml`` lists machines). A slot or media name taken from an
integration folder becomes ``-<name> <value>``, so it must be one of the
machine's own slots or media, never anything else MAME would accept; a machine
name must be a machine, never an option. :func:`check_command_line` enforces
that before any MAME runs.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from gym_mame.errors import MameNotFoundError, UnknownMachineError

# MAME's short names: lower-case letters, digits and underscores.
MACHINE_NAME = re.compile(r"^[a-z0-9_]{1,32}\Z")
OPTION_NAME = re.compile(r"^[a-z0-9_]{1,32}\Z")


@dataclass(frozen=True)
class MachineInfo:
    """One machine of ``mame -listxml``."""

    name: str
    description: str
    year: str
    manufacturer: str
    clone_of: str
    rom_of: str  # the set whose ROMs it shares: its parent, or a BIOS set ("" if none)
    runnable: bool  # False for devices (cartridge types, boards)
    slots: dict[str, tuple[str, ...]]  # slot name -> its options, e.g. joyport1 -> (joy, pad)
    media: dict[str, str]  # media option (brief and full name) -> the brief name
    required_media: tuple[str, ...]  # brief names of media the machine cannot run without


def run_mame(mame: str, *args: str, timeout: float = 120,
             read_config: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a MAME listing command (no emulation). The user's ini files are not read,
    unless ``read_config`` (for ``-showconfig``, to learn where MAME is set up to look)."""
    config = [] if read_config else ["-noreadconfig"]
    try:
        return subprocess.run([mame, *args, *config], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
                              stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise MameNotFoundError(
            f"cannot run MAME at {mame}: {exc.strerror or exc}. Point mame_path= or "
            "GYM_MAME_BIN at the MAME executable, or unset them to use the system MAME."
        ) from None


@functools.lru_cache(maxsize=64)
def machine_info(mame: str, name: str) -> MachineInfo | None:
    """``name``'s entry in ``mame -listxml``, or None if MAME has no such machine."""
    if not MACHINE_NAME.match(name):
        return None
    out = run_mame(mame, "-listxml", name).stdout
    try:
        root = ET.fromstring(out)
    except ET.ParseError:
        return None
    node = next((m for m in root.iter("machine") if m.get("name") == name), None)
    if node is None:
        return None
    slots = {slot.get("name", ""): tuple(o.get("name", "") for o in slot.iter("slotoption"))
             for slot in node.findall("slot")}
    media: dict[str, str] = {}
    required = []
    for device in node.findall("device"):
        for instance in device.findall("instance"):
            brief = instance.get("briefname", "")
            media[brief] = brief
            media[instance.get("name", brief)] = brief
            if device.get("mandatory") == "1":
                required.append(brief)
    return MachineInfo(
        name=name, description=node.findtext("description", ""), year=node.findtext("year", ""),
        manufacturer=node.findtext("manufacturer", ""), clone_of=node.get("cloneof", ""),
        rom_of=node.get("romof", ""),
        runnable=node.get("runnable", "yes") == "yes" and node.get("isdevice", "no") == "no",
        slots=slots, media=media, required_media=tuple(required))


@functools.lru_cache(maxsize=4)
def machine_names(mame: str) -> tuple[str, ...]:
    """Every machine's short name (``mame -listfull``)."""
    lines = run_mame(mame, "-listfull").stdout.splitlines()[1:]  # the first is a header
    return tuple(line.split(" ", 1)[0] for line in lines if line.strip())


def check_command_line(mame: str, system: str, options: Mapping[str, str]) -> MachineInfo:
    """Check that ``system`` is a machine of this MAME and that every ``-option value``
    is one of its slots (with one of that slot's options) or media (with an absolute
    file path); raise :class:`UnknownMachineError` saying what is wrong otherwise."""
    info = machine_info(mame, system) if MACHINE_NAME.match(system) else None
    if info is None:
        import difflib

        close = difflib.get_close_matches(system, machine_names(mame), n=3, cutoff=0.6) \
            if MACHINE_NAME.match(system) else []
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownMachineError(
            f"MAME ({mame}) has no machine {system!r}.{hint} `gym-mame machines <term>` "
            "searches MAME's machines.")
    for option, value in options.items():
        if not OPTION_NAME.match(option):
            raise UnknownMachineError(f"{option!r} is not a slot or media name of {system}")
        if option in info.slots:
            if value not in info.slots[option]:
                raise UnknownMachineError(
                    f"slot {option} of {system} has no option {value!r} (it has: "
                    f"{', '.join(info.slots[option]) or 'none'})")
        elif option in info.media:
            if not os.path.isabs(value):
                raise UnknownMachineError(f"media file for -{option} must be an absolute "
                                          f"path, not {value!r}")
        else:
            known = sorted(set(info.slots) | set(info.media.values()))
            raise UnknownMachineError(
                f"{system} has no slot or media called {option!r} (it has: "
                f"{', '.join(known) or 'none'}); an integration can only name those")
    return info

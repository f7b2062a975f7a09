"""Search MAME's machine list and check which ROM sets are present.

``mame -listfull`` gives every machine's short name and description (one call,
about 0.6 s); ``mame -listxml <name>`` gives a machine's year, maker and the
media it needs (e.g. a cartridge); ``mame -verifyroms <name> -rompath ...``
checks its ROM set (machines without ROMs, like the TTL ``pong``, pass).
Each of the last two takes well under 0.1 s, so they run only for the machines
shown, a few at a time.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gym_mame.wire.bridge import find_mame
from gym_mame.wire.mameinfo import machine_info, run_mame

ROMS_OK = "present"
ROMS_MISSING = "missing"
ROMS_BAD = "bad"


@dataclass(frozen=True)
class Machine:
    """One MAME machine (driver)."""

    name: str
    description: str
    year: str = ""
    manufacturer: str = ""
    clone_of: str = ""
    media: tuple[str, ...] = field(default=())  # required media options, e.g. ("cart",)
    roms: str = ""  # ROMS_OK, ROMS_MISSING, ROMS_BAD or "" (not checked)
    runnable: bool = True  # False for devices (cartridge types, boards) -listfull also lists


@functools.lru_cache(maxsize=4)
def list_all(mame: str) -> tuple[tuple[str, str], ...]:
    """Every machine MAME knows, as ``(name, description)`` pairs."""
    out = run_mame(mame, "-listfull").stdout
    machines = []
    for line in out.splitlines()[1:]:  # the first line is a header
        name, _, rest = line.partition(" ")
        description = rest.strip()
        if description.startswith('"') and description.endswith('"'):
            description = description[1:-1]
        if name:
            machines.append((name, description))
    return tuple(machines)


def search(term: str, mame: str | None = None) -> list[Machine]:
    """Machines whose short name or description contains ``term`` (case-insensitive),
    exact name matches first, then by name."""
    exe = find_mame(mame)
    needle = term.lower()
    found = [Machine(n, d) for n, d in list_all(exe)
             if needle in n.lower() or needle in d.lower()]
    return sorted(found, key=lambda m: (m.name.lower() != needle, m.name))


def details(machine: Machine, mame: str | None = None) -> Machine:
    """The machine with its year, manufacturer, parent and required media from ``-listxml``."""
    info = machine_info(find_mame(mame), machine.name)
    if info is None:
        return machine
    return Machine(machine.name, machine.description, info.year, info.manufacturer,
                   info.clone_of, info.required_media, machine.roms, info.runnable)


def verify_roms(name: str, rom_paths: Sequence[str | os.PathLike[str]],
                mame: str | None = None) -> str:
    """``ROMS_OK`` if MAME finds a usable ROM set for ``name`` in ``rom_paths``
    (or the machine needs none), ``ROMS_BAD`` if files are wrong, else ``ROMS_MISSING``."""
    paths = ";".join(str(p) for p in rom_paths) or str(Path.cwd() / "no-roms")
    out = run_mame(find_mame(mame), "-verifyroms", name, "-rompath", paths)
    text = out.stdout + out.stderr
    if f"romset {name} is good" in text or f"romset {name} is best available" in text:
        return ROMS_OK
    if f"romset {name} is bad" in text:
        return ROMS_BAD
    return ROMS_MISSING


def describe_machines(machines: Sequence[Machine], rom_paths: Sequence[str | os.PathLike[str]],
                      mame: str | None = None, workers: int = 4) -> list[Machine]:
    """Fill in details and ROM status, a few MAME calls at a time."""
    exe = find_mame(mame)

    def one(m: Machine) -> Machine:
        d = details(m, exe)
        roms = verify_roms(m.name, rom_paths, exe) if d.runnable else ""
        return Machine(d.name, d.description, d.year, d.manufacturer, d.clone_of, d.media,
                       roms, d.runnable)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, machines))

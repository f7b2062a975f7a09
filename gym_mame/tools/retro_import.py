"""gym-retro / stable-retro integration folders as gym_mame integrations.

A gym-retro folder holds ``data.json`` (variables at addresses of its libretro core's
memory layout), ``scenario.json`` (the same rule language as ours), ``metadata.json``
(the default state), the ROM's SHA-1 in ``rom.sha`` and libretro ``.state`` files.
:func:`import_retro` translates the variables to the MAME machine's address space, copies
the rules, writes the system's buttons in gym-retro's order with its action groups, and
points the cartridge at the ROM by its SHA-1 (the ROM itself is never copied).

libretro save states are not MAME save states: each becomes a named start whose boot is a
placeholder, to be replaced by a boot recorded in MAME to the same point.

    gym-mame import-retro Airstriker-Genesis-v0 --out integrations/genesis-airstriker
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_mame.errors import IntegrationError
from gym_mame.integration.jsonfile import load_json
from gym_mame.integration.names import unknown
from gym_mame.integration.write import write_files
from gym_mame.runtime.starts import STATE_NAME


@dataclass(frozen=True)
class System:
    """How a gym-retro system maps onto a MAME machine."""

    retro: str  # gym-retro's system name (the folder name's suffix, e.g. "Genesis")
    machine: str
    rom_ext: str  # the ROM's extension in gym-retro folders (MAME accepts it)
    port: str  # player 1's input port with the default controller of ``slots``
    # gym-retro button -> MAME field of ``port``, or (port, field) elsewhere; a button of
    # gym-retro's list that MAME's pad lacks has none (PC Engine's III-VI on a 2-button pad)
    fields: dict[str, str | tuple[str, str]]
    buttons: tuple[str | None, ...]  # gym-retro's button order (None: an unused bit)
    groups: tuple[tuple[tuple[str, ...], ...], ...]  # gym-retro's action groups
    # the work RAM: at ``retro_base`` in gym-retro's addresses, at ``ram_start`` in MAME's
    # :maincpu program space, ``ram_size`` bytes
    retro_base: int
    ram_size: int
    ram_start: int
    slots: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def address(self, retro_address: int) -> int:
        """gym-retro's address as MAME's; ``ValueError`` outside the RAM gym-retro reads."""
        low, size = self.retro_base, self.ram_size
        if not low <= retro_address < low + size:
            raise ValueError(f"{retro_address:#x} is outside the work RAM "
                             f"{low:#x}-{low + size - 1:#x} that gym-retro reads")
        return retro_address - low + self.ram_start


_MOVES = ((), ("UP",), ("DOWN",)), ((), ("LEFT",), ("RIGHT",))
_MD_FIELDS = {"B": "P1 B", "A": "P1 A", "MODE": "P1 Mode", "START": "P1 Start", "UP": "P1 Up",
              "DOWN": "P1 Down", "LEFT": "P1 Left", "RIGHT": "P1 Right", "C": "P1 C",
              "Y": "P1 Y", "X": "P1 X", "Z": "P1 Z"}
_NES_FIELDS = {"B": "P1 B", "SELECT": "P1 Select", "START": "P1 Start", "UP": "P1 Up",
               "DOWN": "P1 Down", "LEFT": "P1 Left", "RIGHT": "P1 Right", "A": "P1 A"}

# gym-retro's cores/*.json (buttons, actions, rambase) against MAME 0.251's drivers.
SYSTEMS: dict[str, System] = {
    # Genesis Plus GX keeps 68k work RAM (0xFF0000-0xFFFFFF) as native 16-bit words, and
    # gym-retro's overlay ("=", ">", 2) undoes that: its addresses and big-endian types are
    # the 68000's own, which is what MAME's program space reads. A six-button pad, as the
    # core's default pad offers all twelve buttons.
    "Genesis": System(
        "Genesis", "genesis", "md", ":ctrl1:md6button:PAD", _MD_FIELDS,
        ("B", "A", "MODE", "START", "UP", "DOWN", "LEFT", "RIGHT", "C", "Y", "X", "Z"),
        (*_MOVES, ((), ("A",), ("B",), ("C",), ("X",), ("Y",), ("Z",), ("A", "B"),
                   ("B", "C"), ("A", "X"), ("B", "Y"), ("C", "Z"), ("X", "Y"), ("Y", "Z"))),
        0xFF0000, 0x10000, 0xFF0000, {"ctrl1": "md6button"}),
    # FCEUmm exposes the 2 KB of CPU RAM at 0x0000, as the 6502 sees it.
    "Nes": System(
        "Nes", "nes", "nes", ":ctrl1:joypad:JOYPAD", _NES_FIELDS,
        ("B", None, "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A"),
        (*_MOVES, ((), ("A",), ("B",), ("A", "B"))), 0, 0x800, 0,
        note="NES: MAME's ports, not yet checked on a real cartridge"),
    # snes9x: 128 KB of WRAM at 0x7E0000, the 65816's own addresses.
    "Snes": System(
        "Snes", "snes", "sfc", ":ctrl1:joypad:JOYPAD",
        {b: f"P1 {b.title()}" if len(b) > 1 else f"P1 {b}"
         for b in ("B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X",
                   "L", "R")},
        ("B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X", "L", "R"),
        (*_MOVES, ((), ("A",), ("B",), ("X",), ("Y",), ("A", "B"), ("B", "Y"), ("X", "Y"),
                   ("A", "X"), ("A", "B", "Y"), ("B", "X", "Y"), ("A", "X", "Y"),
                   ("A", "B", "X", "Y")), ((), ("L",), ("R",), ("L", "R"))),
        0x7E0000, 0x20000, 0x7E0000,
        note="SNES: MAME's snes needs its spc700.rom; ports not yet checked"),
    # Genesis Plus GX's SMS RAM: 8 KB at the Z80's 0xC000. MAME's sms needs its BIOS.
    "Sms": System(
        "Sms", "sms", "sms", ":ctrl1:joypad:JOY",
        {"B": "P1 Button 1", "A": "P1 Button 2", "UP": "P1 Up", "DOWN": "P1 Down",
         "LEFT": "P1 Left", "RIGHT": "P1 Right", "PAUSE": "Pause"},
        ("B", None, None, "PAUSE", "UP", "DOWN", "LEFT", "RIGHT", "A"),
        (*_MOVES, ((), ("A",), ("B",), ("A", "B"))), 0xC000, 0x2000, 0xC000,
        note="MAME's sms needs its BIOS ROMs; ports and fields not yet checked"),
    # mednafen's PC Engine RAM: gym-retro's 0xF80000 is the HuC6280's physical page 0xF8,
    # which MAME's 21-bit program space has at 0x1F0000.
    "PCEngine": System(
        "PCEngine", "pce", "pce", ":ctrl:joypad2:BUTTONS",
        {"I": "P1 Button I", "II": "P1 Button II", "SELECT": "P1 Select", "RUN": "P1 Run",
         **{d: (":ctrl:joypad2:DIRECTION", f"P1 {d.title()}")
            for d in ("UP", "DOWN", "LEFT", "RIGHT")}},
        ("II", "III", "SELECT", "RUN", "UP", "DOWN", "LEFT", "RIGHT", "I", "IV", "V", "VI"),
        (*_MOVES, ((), ("I",), ("II",), ("I", "II"))), 0xF80000, 0x2000, 0x1F0000,
        note="PC Engine: MAME's ports, not yet checked on a real HuCard; its two-button "
             "pad has no III-VI"),
}

# Folder suffixes of gym-retro systems MAME runs but this table cannot translate yet, and why.
UNSUPPORTED = {
    "GameBoy": "MAME's gameboy needs its boot ROM, and gambatte's memory layout is not mapped",
    "GbColor": "MAME's gbcolor needs its boot ROM, and gambatte's memory layout is not mapped",
    "GbAdvance": "mGBA's memory layout is not mapped to MAME's gba",
    "GameGear": "MAME's gamegear needs its BIOS",
    "Atari2600": "use the a2600-* integrations, which follow ALE",
    "32x": "MAME's 32X needs its BIOS ROMs",
    "Saturn": "MAME's saturn needs its BIOS and CD images",
    "N64": "MAME's n64 is not usable for play",
    "NintendoDs": "MAME does not run the Nintendo DS",
}

ROM_EXTS = {s.rom_ext: s for s in SYSTEMS.values()}
STATE_PLACEHOLDER = ("power-on only: gym-retro's {file} is a libretro state MAME cannot load; "
                     "record a boot to the same point (gym-mame studio) and replace these steps")


@dataclass
class Imported:
    """The files written and what the user must still do."""

    folder: Path
    system: System
    states: list[str]  # libretro states that need a boot recorded in MAME
    rom: Path | None  # the ROM next to the source files, if any
    warnings: list[str] = field(default_factory=list)


def find_source(source: str | Path) -> Path:
    """A gym-retro folder: a path, or a game name of the installed stable-retro
    (``Airstriker-Genesis-v0``)."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    games = retro_games()
    for name in (str(source), f"{source}-v0"):  # the README's "Airstriker-Genesis" too
        if name in games:
            return games[name]
    raise unknown("stable-retro game", str(source), games,
                  "It is neither a gym-retro integration folder nor a game of an installed "
                  "stable-retro; give the folder holding its data.json (pip install "
                  "stable-retro for its games)")


def retro_games() -> dict[str, Path]:
    """The game folders of the installed stable-retro by name (``Airstriker-Genesis-v0``),
    found on disk: nothing of it is imported."""
    games: dict[str, Path] = {}
    spec = importlib.util.find_spec("stable_retro")
    for location in (spec.submodule_search_locations or []) if spec else []:
        for kind in ("stable", "experimental", "contrib"):
            folder = Path(location) / "data" / kind
            for game in sorted(folder.iterdir()) if folder.is_dir() else ():
                games.setdefault(game.name, game)
    return games


def system_of(folder: Path) -> System:
    """The system from the folder's name (``Game-Genesis``, ``Game-Genesis-v0``) or its ROM."""
    name = re.sub(r"-v\d+$", "", folder.name)
    suffix = name.rsplit("-", 1)[-1] if "-" in name else ""
    if suffix in UNSUPPORTED:
        raise IntegrationError(f"{folder}: {suffix} games cannot be imported yet: "
                               f"{UNSUPPORTED[suffix]}")
    if suffix in SYSTEMS:
        return SYSTEMS[suffix]
    roms = [p for p in folder.glob("rom.*") if p.suffix[1:] in ROM_EXTS]
    if roms:
        return ROM_EXTS[roms[0].suffix[1:]]
    known = ", ".join(SYSTEMS)
    raise IntegrationError(f"{folder}: cannot tell the system (the folder name should end "
                           f"in -<System>, one of {known}, or hold rom.<ext>)")


def _hex(value: int) -> str:
    return f"0x{value:X}"


def _input(system: System, button: str) -> dict[str, str]:
    where = system.fields[button]
    port, name = where if isinstance(where, tuple) else (system.port, where)
    return {"port": port, "field": name}


def translate_variables(data: Any, system: System, file: Path) -> dict[str, Any]:
    """data.json's ``info`` with addresses in MAME's space (types are kept: see SYSTEMS)."""
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise IntegrationError(f"{file}: expected {{\"info\": {{name: variable}}}}")
    info: dict[str, Any] = {}
    for name, var in data["info"].items():
        if not isinstance(var, dict) or "address" not in var or "type" not in var:
            raise IntegrationError(f"{file}: info.{name}: expected address and type")
        extra = set(var) - {"address", "type"}
        if extra:
            raise IntegrationError(f"{file}: info.{name}: gym-retro keys {sorted(extra)} "
                                   "have no translation; remove them or write the variable "
                                   "by hand")
        address = _address(var["address"], f"{file}: info.{name}.address")
        try:
            info[name] = {"address": _hex(system.address(address)), "type": var["type"]}
        except ValueError as exc:
            raise IntegrationError(f"{file}: info.{name}: {exc}") from None
    return {"info": info}


def _address(value: Any, where: str) -> int:
    """gym-retro's address: an integer, or a string such as "0xFF0066"."""
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    raise IntegrationError(f"{where}: {json.dumps(value)[:40]} is not an integer address "
                           "(write it as 16712294 or \"0xFF0066\")")


def translate_scenario(scenario: Any, file: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """scenario.json as ours, and what of it belongs in metadata.json (crop, actions)."""
    if not isinstance(scenario, dict):
        raise IntegrationError(f"{file}: expected a JSON object")
    if "script" in scenario or any(isinstance(v, dict) and "script" in v
                                   for v in scenario.values()):
        raise IntegrationError(f"{file}: Lua scripts cannot be imported: gym_mame rules are "
                               "data; rewrite them as expressions (integrations/README.md)")
    rules = {k: v for k, v in scenario.items() if k in ("reward", "done")}
    unknown = set(scenario) - {"reward", "done", "crop", "actions"}
    if unknown:
        raise IntegrationError(f"{file}: keys {sorted(unknown)} have no translation")
    meta: dict[str, Any] = {}
    if "crop" in scenario:
        meta["crop"] = scenario["crop"]
    if "actions" in scenario:
        meta["action_groups"] = scenario["actions"]
    return rules, meta


def action_groups(system: System, groups: Any = None) -> list[list[list[str]]]:
    """The groups as gym-retro's ``valid_actions()`` orders them: each combination sorted by
    its button mask, duplicates dropped, the buttons of each in the system's order."""
    order = {b: i for i, b in enumerate(system.buttons) if b is not None}

    def mask(combo: Any) -> int:
        if not isinstance(combo, (list, tuple)) or not all(isinstance(b, str) and b in order
                                                  for b in combo):
            raise IntegrationError(f"scenario.json: actions: {json.dumps(combo)[:60]} is not a "
                                   f"list of {system.retro} buttons ({', '.join(order)})")
        return sum(1 << order[b] for b in combo)

    out = []
    chosen = groups if groups is not None else system.groups
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(g, (list, tuple))
                                                        for g in chosen):
        raise IntegrationError("scenario.json: actions: expected a list of groups, each a "
                               "list of button combinations")
    for group in chosen:
        unique = {mask(c): sorted(c, key=order.__getitem__) for c in group}
        out.append([unique[m] for m in sorted(unique)])
    return out


def rom_cartridge(folder: Path, system: System) -> tuple[dict[str, Any], Path | None]:
    """metadata.json ``cartridge``: the ROM by SHA-1 (rom.sha, else the file), and, for a
    folder inside an installed Python package, where the package keeps it."""
    rom = folder / f"rom.{system.rom_ext}"
    sha_file = folder / "rom.sha"
    sha1 = None
    if sha_file.is_file():
        with sha_file.open("rb") as stream:  # a SHA-1 and a name at most
            words = stream.read(256).decode("ascii", "replace").split()
        if not words or not re.fullmatch(r"[0-9a-fA-F]{40}", words[0]):
            raise IntegrationError(f"{sha_file}: expected a SHA-1 (40 hex digits), got "
                                   f"{(words or [''])[0][:48]!r}")
        sha1 = words[0].lower()
    if sha1 is None and rom.is_file():
        sha1 = hashlib.sha1(rom.read_bytes()).hexdigest()
    if sha1 is None:
        raise IntegrationError(f"{folder}: neither rom.sha nor rom.{system.rom_ext}: the "
                               "cartridge cannot be identified")
    cart: dict[str, Any] = {"slot": "cart", "file": rom.name, "sha1": sha1}
    spec = importlib.util.find_spec("stable_retro")
    for location in (spec.submodule_search_locations or []) if spec else []:
        try:
            inside = folder.resolve().relative_to(Path(location).resolve())
        except ValueError:
            continue
        cart |= {"package": "stable_retro", "package_dir": inside.as_posix()}
    return cart, rom if rom.is_file() else None


def build(source: Path, name: str) -> tuple[dict[str, dict[str, Any]], Imported]:
    """The three files of the gym_mame folder for gym-retro folder ``source``."""
    system = system_of(source)
    data = translate_variables(load_json(source / "data.json"), system, source / "data.json")
    scenario_path = source / "scenario.json"
    scenario, from_scenario = translate_scenario(load_json(scenario_path), scenario_path)
    retro_meta = load_json(source / "metadata.json") if (source / "metadata.json").is_file() \
        else {}
    cart, rom = rom_cartridge(source, system)
    states = sorted(p.stem for p in source.glob("*.state"))
    default = retro_meta.get("default_state") if isinstance(retro_meta, dict) else None
    if default is not None and not (isinstance(default, str) and STATE_NAME.match(default)
                                    and ".." not in default):
        raise IntegrationError(f"{source / 'metadata.json'}: default_state: "
                               f"{json.dumps(default)[:60]} is not a state name (a plain name "
                               "such as \"Level1\", no folder)")
    if default is not None and default not in states:
        states.append(default)
    buttons = [b for b in system.buttons if b is not None and b in system.fields]
    groups = action_groups(system, from_scenario.pop("action_groups", None))
    missing = sorted({b for g in groups for c in g for b in c} - set(buttons))
    if missing:
        raise IntegrationError(f"{source}: actions use {', '.join(missing)}, which MAME's "
                               f"{system.machine} pad here does not have")
    meta: dict[str, Any] = {
        "title": f"{source.name} (gym-retro) on MAME's {system.machine} driver",
        "machine": system.machine,
        "verified": False,
        "notes": f"Imported from gym-retro's {source.name}: variables at the "
                 f"{system.machine} CPU's own addresses, gym-retro's scenario, buttons and "
                 "action groups (gym-retro's Discrete order). Its states are libretro "
                 "states: each start here is a placeholder boot until one is recorded in "
                 "MAME." + (f" {system.note}." if system.note else ""),
        "cartridge": cart,
    }
    if system.slots:
        meta["slots"] = system.slots
    # obs_type="ram": the work RAM in the CPU's byte order (gym-retro's get_ram() of a
    # Genesis has each 16-bit word's bytes swapped, as its core stores them)
    meta["ram"] = [{"start": _hex(system.ram_start), "length": system.ram_size}]
    meta |= {
        "inputs": {b: _input(system, b) for b in buttons},
        "buttons": buttons,
        "action_groups": groups,
        "discrete_order": "retro",
    }
    meta |= from_scenario
    boot = [{"frames": 1}]
    if states:
        meta["states"] = {s: {"boot": boot, "description": STATE_PLACEHOLDER.format(
            file=f"{s}.state")} for s in states}
        meta["default_state"] = default or states[0]
    else:
        meta["start"] = {"boot": boot}
    folder = Path(name)
    return ({"metadata.json": meta, "data.json": data, "scenario.json": scenario},
            Imported(folder, system, states, rom))


def import_retro(source: str | Path, out: str | Path | None = None,
                 overwrite: bool = False) -> Imported:
    """Write the gym_mame integration of gym-retro folder (or stable-retro game) ``source``
    into ``out`` (default ``integrations/<system>-<game>`` under the current folder)."""
    folder = find_source(source)
    system = system_of(folder)
    game = re.sub(r"-v\d+$", "", folder.name).removesuffix(f"-{system.retro}")
    target = Path(out) if out is not None else Path(
        "integrations", f"{system.machine}-{re.sub(r'[^a-z0-9_]+', '_', game.lower())}")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise IntegrationError(f"{target} already exists and is not empty; choose another "
                               "--out or pass --force to overwrite its files")
    files, imported = build(folder, str(target))
    check_loads(files, folder, target)
    write_files(target, files)
    imported.folder = target
    return imported


def check_loads(files: dict[str, dict[str, Any]], source: Path, target: Path) -> None:
    """Parse the folder about to be written with the integrations' own loader (in a
    temporary folder), so that nothing is written that would not load; the error names the
    file, the key and the value."""
    from gym_mame.integration import load

    with tempfile.TemporaryDirectory(prefix="gym-mame-import-") as tmp:
        trial = Path(tmp, target.name or "imported")
        write_files(trial, files)
        try:
            load(trial)
        except IntegrationError as exc:
            problem = str(exc).replace(f"{trial}{os.sep}", "")
            raise IntegrationError(f"{source}: the folder it makes would not load: "
                                   f"{problem}") from None

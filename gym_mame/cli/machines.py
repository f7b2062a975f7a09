"""``gym-mame machines`` and ``ports``: what MAME knows of its machines."""

from __future__ import annotations

import argparse

from gym_mame.cli.lookup import check_machine
from gym_mame.cli.options import ROM_PATH_HELP, positive
from gym_mame.cli.registry import command
from gym_mame.cli.table import print_table
from gym_mame.errors import RomNotFoundError


def _machines_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("term", help="part of a short name or description, e.g. pong")
    parser.add_argument("--limit", type=positive, default=20, help="matches to check and show")
    parser.add_argument("--all", action="store_true", help="check every match (slower)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)


@command("machines", "search MAME's machines; are their ROMs here?",
         arguments=_machines_arguments, rom_exit=2)
def cmd_machines(args: argparse.Namespace) -> int:
    """Search MAME's machines by short name or description; show whether ROMs are here."""
    from gym_mame.runtime.roms import rom_paths
    from gym_mame.tools.machines import describe_machines, search

    found = search(args.term)
    if not found:
        print(f"no MAME machine matches {args.term!r}")
        return 1
    shown = found if args.all else found[:args.limit]
    paths = rom_paths(args.rom_path)
    machines = describe_machines(shown, paths)
    devices = [m for m in machines if not m.runnable]
    machines = [m for m in machines if m.runnable]
    rows = [("name", "ROMs", "needs", "year", "manufacturer", "description")]
    for m in machines:
        needs = " ".join(f"-{x}" for x in m.media)
        desc = m.description + (f" (clone of {m.clone_of})" if m.clone_of else "")
        rows.append((m.name, m.roms, needs, m.year, m.manufacturer[:24], desc))
    print_table(rows)
    notes = []
    if len(shown) < len(found):
        notes.append(f"{len(found) - len(shown)} more matches not shown (--limit N or --all)")
    if devices:
        notes.append(f"{len(devices)} device(s) hidden: " + ", ".join(d.name for d in devices))
    for note in notes:
        print(note)
    print(f"ROM path: {', '.join(str(p) for p in paths)}")
    return 0


def _ports_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("machine", help="MAME machine name, e.g. pong or a2600")
    parser.add_argument("--cart", metavar="FILE",
                        help="cartridge file for consoles (default: none)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)


@command("ports", "list a machine's input ports and fields",
         arguments=_ports_arguments, rom_exit=2)
def cmd_ports(args: argparse.Namespace) -> int:
    """Start a machine and print its input ports and fields."""
    from pathlib import Path

    from gym_mame.runtime.roms import rom_paths
    from gym_mame.tools.ports import analog_controls, format_ports, machine_description

    check_machine(args.machine)
    media = {}
    if args.cart:
        if not Path(args.cart).expanduser().is_file():  # else MAME would seem to crash
            raise RomNotFoundError(f"cartridge file {args.cart} does not exist")
        media["cart"] = str(Path(args.cart).expanduser().resolve())
    description = machine_description(args.machine, media, rom_paths(args.rom_path))
    print(format_ports(description, analog_controls(args.machine)))
    return 0

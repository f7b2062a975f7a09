"""``gym-mame import-roms`` and ``import-retro``: bring ROMs and other projects'
integrations in."""

from __future__ import annotations

import argparse
import sys

from gym_mame.cli.registry import command
from gym_mame.errors import IntegrationError, UnknownNameError


def _import_roms_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder to search (sub-folders and zip archives too)")
    parser.add_argument("--to", help="ROM folder to import into (default: the first of "
                        "$GYM_MAME_ROMPATH, else ~/.mame/roms)")
    parser.add_argument("--link", action="store_true", help="symlink instead of copying "
                        "(files inside archives are always copied)")


@command("import-roms", "find the cartridges and ROM sets of known games in a "
         "folder (by checksum, and MAME's own verification for arcade sets) and copy "
         "them into the ROM path",
         arguments=_import_roms_arguments)
def cmd_import_roms(args: argparse.Namespace) -> int:
    """Copy the cartridges and ROM sets of known games found in a folder into the ROM path."""
    from gym_mame.tools.rom_import import default_target, import_roms

    target = args.to or default_target()
    report = import_roms(args.folder, target, link=args.link)
    for line in report.lines():
        print(line)
    if not report.imported:
        print(f"no cartridge or ROM set of a known game was found in {args.folder}",
              file=sys.stderr)
        return 1
    if args.to is not None:
        print(f"to use them: GYM_MAME_ROMPATH={target} (or rom_path='{target}')")
    return 0


def _import_retro_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="the gym-retro folder (with data.json), or a game of "
                        "the installed stable-retro, e.g. Airstriker-Genesis-v0")
    parser.add_argument("--out", help="folder to write (default: "
                        "integrations/<machine>-<game> under the current folder)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the files of an existing folder")


@command("import-retro", "turn a gym-retro / stable-retro integration folder "
         "(Genesis, NES, SNES, Master System, PC Engine) into a gym_mame folder",
         arguments=_import_retro_arguments)
def cmd_import_retro(args: argparse.Namespace) -> int:
    """Turn a gym-retro / stable-retro integration folder into a gym_mame one."""
    from gym_mame.tools.retro_import import import_retro

    try:
        result = import_retro(args.folder, args.out, overwrite=args.force)
    except UnknownNameError:
        raise  # the closest names, as every command reports a mistyped name
    except IntegrationError as exc:  # a bad value of the source folder: nothing was written
        print(f"gym-mame import-retro: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"wrote {result.folder}/metadata.json, data.json, scenario.json "
          f"({result.system.retro} on MAME's {result.system.machine})")
    if result.rom is None:
        print("the ROM is not in that folder: put it in the ROM path (GYM_MAME_ROMPATH); it "
              "is found by its SHA-1")
    for state in result.states:
        print(f"{state}.state is a libretro save state, which MAME cannot load: start "
              f"\"{state}\" is a placeholder (power-on). Record a boot to the same point, "
              f"e.g. in gym-mame studio {result.folder}, write it as states.{state}.boot in "
              f"metadata.json, then gym-mame make-state {result.folder} --state {state}")
    print("marked \"verified\": false until it has been played and checked in MAME")
    return 0

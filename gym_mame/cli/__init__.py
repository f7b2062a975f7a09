"""The gym-mame console command (also: python -m gym_mame).

Examples:
  gym-mame                      a random agent plays Mame/pong-v0 for one episode
  gym-mame run --env a2600-breakout --episodes 3 --record breakout.mp4
  gym-mame list                 every integration and whether it can run here
  gym-mame list sfiii3n         one game's players, start states, scenarios and options
  gym-mame import-roms ~/roms   copy the ROMs of known games found in a folder (by checksum)
  gym-mame bench                env speed as a share of raw MAME speed, in the same run
  gym-mame make-state pong      rebuild an integration's start state
  gym-mame agreement breakout   Atari 2600 games against the Arcade Learning Environment
  gym-mame studio a2600 --cart breakout.bin   find variables, write an integration
  gym-mame machines pong        MAME machines matching a term; are their ROMs here?
  gym-mame ports a2600 --cart breakout.bin    a machine's input ports and fields
  gym-mame validate pong        play an episode; check the integration's variables
  gym-mame record a2600-breakout --out rec/   record a seeded play (MAME .inp + states)
  gym-mame replay rec/          replay it and check it ends in the same state

gym-mame COMMAND --help explains each command's options.
"""

# argparse (standard library) is enough for a handful of sub-commands and adds no
# dependency. Each command lives in the module of its group and registers itself there
# (gym_mame.cli.registry.command).

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gym_mame.cli.registry import REGISTRY, HelpFormatter
from gym_mame.errors import GymMameError, RomNotFoundError, UnknownNameError

# The modules of the commands, in the order --help lists them; importing one registers its
# commands.
COMMAND_MODULES = ("play", "listing", "imports", "bench", "states", "agreement", "studio",
                   "machines", "checks")
for _module in COMMAND_MODULES:
    importlib.import_module(f"gym_mame.cli.{_module}")
DEFAULT_COMMAND = "run"  # what a bare `gym-mame` (or one starting with an option) runs


def build_parser() -> argparse.ArgumentParser:
    """The parser of every registered command."""
    parser = argparse.ArgumentParser(
        prog="gym-mame", description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=HelpFormatter)
    REGISTRY.add_parsers(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (default: ``sys.argv[1:]``); its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT_COMMAND)
    args = build_parser().parse_args(argv)

    command = REGISTRY[args.command]
    try:
        return command.handler(args)
    except UnknownNameError as exc:
        print(f"gym-mame {args.command}: {exc}", file=sys.stderr)
        return 1
    except RomNotFoundError as exc:
        print(f"gym-mame: {type(exc).__name__}: {exc}", file=sys.stderr)
        return command.rom_exit
    except GymMameError as exc:
        print(f"gym-mame: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

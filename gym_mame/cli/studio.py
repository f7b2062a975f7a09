"""``gym-mame studio``: the web page that finds variables and writes an integration."""

from __future__ import annotations

import argparse
import sys

from gym_mame.cli.lookup import check_machine
from gym_mame.cli.options import ROM_PATH_HELP, tcp_port
from gym_mame.cli.registry import command


def _studio_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="MAME machine (e.g. pong, a2600) or integration")
    parser.add_argument("--cart", metavar="FILE",
                        help="cartridge file for the machine (default: the integration's, "
                        "or none)")
    parser.add_argument("--port", type=tcp_port, default=8642, help="local port (0: any free one)")
    parser.add_argument("--slot", action="append", metavar="NAME=VALUE",
                        help="MAME slot option, e.g. joyport1=pad (paddles on an Atari 2600); "
                        "repeat for more (default: the integration's, or MAME's)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)
    parser.add_argument("--out", metavar="DIR", help="where folders are written (default: the "
                        "first $GYM_MAME_INTEGRATIONS entry, else ./integrations)")


@command("studio", "serve a web page to find variables and write an "
         "integration (127.0.0.1 only)",
         arguments=_studio_arguments)
def cmd_studio(args: argparse.Namespace) -> int:
    """Serve the integration studio for a machine on 127.0.0.1 until Ctrl-C."""
    from pathlib import Path

    from gym_mame.integration import find_folders
    from gym_mame.studio.server import run_studio

    games = find_folders()
    if not (Path(args.target) / "metadata.json").is_file() and args.target not in games:
        check_machine(args.target, also=list(games), kind="MAME machine or integration")
    slots = None
    if args.slot:
        try:
            slots = dict(option.split("=", 1) for option in args.slot)
        except ValueError:
            print(f"gym-mame studio: --slot takes NAME=VALUE, e.g. joyport1=pad, "
                  f"not {args.slot}", file=sys.stderr)
            return 2
    return run_studio(args.target, cart=args.cart, port=args.port, rom_path=args.rom_path,
                      out_dir=args.out, slots=slots)

"""``gym-mame make-state``: rebuild an integration's start state from its boot sequence."""

from __future__ import annotations

import argparse
import sys

from gym_mame.cli.lookup import check_game
from gym_mame.cli.options import ROM_PATH_HELP
from gym_mame.cli.registry import command


def _make_state_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game", help="game name or integration folder")
    parser.add_argument("--state", help="which named state (default: the integration's "
                        "default state)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)


@command("make-state", "rebuild an integration's start state file from its boot sequence",
         arguments=_make_state_arguments)
def cmd_make_state(args: argparse.Namespace) -> int:
    """Rebuild a start state of an integration from its boot sequence and save it there."""
    from gym_mame.integration import load
    from gym_mame.tools.states import make_state, start_to_make

    check_game(args.game)
    game = load(args.game)
    try:
        start = start_to_make(game, args.state)
    except ValueError as exc:  # no such state, or no boot to make it with
        print(exc, file=sys.stderr)
        return 2
    made = make_state(game, start, rom_path=args.rom_path)
    print(f"wrote {made.file} (MAME {made.mame_version})")
    return 0

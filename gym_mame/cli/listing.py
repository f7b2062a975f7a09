"""``gym-mame list``: the integrations and whether each can run here, or one game's
players, start states, scenarios and options."""

from __future__ import annotations

import argparse
import os

from gym_mame.cli.lookup import check_game
from gym_mame.cli.options import ROM_PATH_HELP
from gym_mame.cli.registry import command
from gym_mame.cli.table import print_table
from gym_mame.errors import GymMameError


def list_game(name: str) -> int:
    """Print one integration's players, start states, scenarios and game options."""
    from gym_mame.integration import list_scenarios, list_states, load

    check_game(name)
    game = load(name)
    print(f"{game.env_id}: {game.title} (MAME machine {game.machine})")
    print(f"players: {', '.join(str(n) for n in (1, *sorted(game.teams)))}")
    print("states (state=...):")
    for state in list_states(name):
        spec = game.states[state]
        made = "state file" if spec.file is not None else "boot"
        mark = " [default]" if state == game.default_state else ""
        print(f"  {state}{mark}: {spec.description or made}")
    print(f"scenarios (scenario=...): {', '.join(list_scenarios(name))}")
    if game.options:
        print("game options:")
        for option in game.options.values():
            about = f": {option.description}" if option.description else ""
            print(f"  {option.name}={option.default} (one of {', '.join(option.values)})"
                  f"{about}")
    return 0


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game", nargs="?", help="show this game's states, scenarios and "
                        "options (default: list every game)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)


@command("list", "list the integrations and whether each can run here; with a "
         "game, its players, start states, scenarios and options",
         arguments=_list_arguments)
def cmd_list(args: argparse.Namespace) -> int:
    """Print every integration and whether MAME and its ROM are available here."""
    if args.game:
        return list_game(args.game)
    from gym_mame.errors import MameNotFoundError
    from gym_mame.integration import find_folders, load
    from gym_mame.runtime.roms import find_cartridge, rom_paths, rom_set_present
    from gym_mame.wire.bridge import find_mame

    try:
        mame = find_mame()
    except MameNotFoundError as exc:
        mame = None
        print(f"MAME: not found ({exc})")
    else:
        print(f"MAME: {mame}")
    paths = rom_paths(args.rom_path)
    rows = [("id", "machine", "ROM", "runs here", "title")]
    for name, folder in find_folders().items():
        try:
            game = load(name)
        except GymMameError as exc:
            # one line for the bad folder (its file and problem), and the others still listed
            why = " ".join(str(exc).replace(f"{folder}{os.sep}", "").split())
            rows.append((f"Mame/{name}-v0", "?", "invalid", "no", why[:160]))
            continue
        if game.cartridge is not None:
            try:
                find_cartridge(game.cartridge, paths)
                rom = "found"
            except GymMameError:
                rom = "missing"
        elif game.rom_set is not None:
            rom = "found" if rom_set_present(game.rom_set, paths) else "missing"
        else:
            rom = "not needed"
        runs = "yes" if mame and rom != "missing" else "no"
        title = game.title + ("" if game.verified else " [not verified on a real ROM]")
        rows.append((game.env_id, game.machine, rom, runs, title))
    print_table(rows)
    print(f"ROM path: {', '.join(str(p) for p in paths)}")
    return 0

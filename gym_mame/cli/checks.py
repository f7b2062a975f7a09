"""``gym-mame validate``, ``record`` and ``replay``: play an integration and check it."""

from __future__ import annotations

import argparse
import os
import sys

from gym_mame.cli.lookup import check_game
from gym_mame.cli.options import ROM_PATH_HELP, action_list, non_negative, positive
from gym_mame.cli.progress import LazyBar
from gym_mame.cli.registry import command
from gym_mame.errors import IntegrationError
from gym_mame.tools.validate import EPISODE_CAP as VALIDATE_CAP


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game", help="game name or integration folder")
    parser.add_argument("--steps", type=positive, default=None,
                        help="stop after this many steps (default: play until the episode "
                        f"ends, at most {VALIDATE_CAP} steps)")
    parser.add_argument("--agent", choices=["random", "noop"], default="random",
                        help="random actions (seeded by --seed) or always NOOP")
    parser.add_argument("--seed", type=non_negative, default=0,
                        help="seed of the reset and the agent")
    parser.add_argument("--actions", type=action_list, metavar="I,J,...",
                        help="scripted play: these action indices, repeated (overrides "
                        "--agent; default: none)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("validate", "play an integration and check its variables",
         arguments=_validate_arguments, rom_exit=2)
def cmd_validate(args: argparse.Namespace) -> int:
    """Load an integration, play it briefly, and report what its variables did."""
    from gym_mame.integration import load
    from gym_mame.tools.validate import format_report, validate

    check_game(args.game)
    try:
        game = load(args.game)
    except IntegrationError as exc:
        print(f"gym-mame validate: the integration does not load: {exc}", file=sys.stderr)
        return 1
    print(f"{game.env_id}: {game.title} (machine {game.machine}, folder {game.folder})")
    if game.checks:  # printed first: they help most when the play below fails
        print("To confirm by looking at the game (metadata.json \"checks\"):")
        print("\n".join(f"  - {what}: {how}" for what, how in game.checks))
    bar = LazyBar(total=args.steps or VALIDATE_CAP, unit="step", leave=False,
                  disable=args.quiet)
    try:
        report = validate(game.folder, steps=args.steps, agent=args.agent, seed=args.seed,
                          rom_path=args.rom_path, actions=args.actions, progress=bar)
    finally:
        bar.close()
    print(format_report(report))
    if args.strict and report.warnings:
        return 1
    return 0


def _record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game", help="game name or integration folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="recording folder")
    parser.add_argument("--steps", type=positive, default=300, help="at most this many steps")
    parser.add_argument("--agent", choices=["random", "noop"], default="random",
                        help="random actions (seeded by --seed) or always NOOP")
    parser.add_argument("--seed", type=non_negative, default=0,
                        help="seed of the reset and the agent")
    parser.add_argument("--human", action="store_true",
                        help="play yourself in MAME's window (needs a display)")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("record", "record a play in MAME's input format (.inp), with states",
         arguments=_record_arguments, rom_exit=2)
def cmd_record(args: argparse.Namespace) -> int:
    """Record a seeded play (or the keyboard, with --human) into MAME's .inp format."""
    from gym_mame.tools.recording import record

    check_game(args.game)
    bar = LazyBar(total=args.steps, unit="step", leave=False, disable=args.quiet or args.human)
    if args.human and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("MAME's window is open: play with MAME's keys (arrows, Ctrl = button 1, "
              f"F3 = reset); the recording ends after {args.steps} steps.")
    try:
        rec = record(args.game, args.out, steps=args.steps, agent=args.agent, seed=args.seed,
                     rom_path=args.rom_path, human=args.human, progress=bar)
    finally:
        bar.close()
    info = rec.info
    print(f"recorded {info['steps']} steps of {info['game']} ({info['agent']} agent, seed "
          f"{info['seed']}{', episode ended' if info['terminated'] else ''}) in "
          f"{info['seconds']:g} s to {rec.folder}")
    print("  " + ", ".join(f"{k} = {v}" for k, v in info["variables"].items()))
    print(f"  files: {info['inp']} (MAME input recording), start.sta, end.sta, recording.json")
    return 0


def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="a folder made by gym-mame record")
    parser.add_argument("--inputs", choices=["auto", "inp", "actions"], default="auto",
                        help="inp: only the .inp drives the inputs; actions: the recorded "
                        "actions too (needed for analog inputs); auto: pick")
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("replay", "replay a recording and check that it ends the same",
         arguments=_replay_arguments, rom_exit=2)
def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a recording with MAME's -playback and check it ends where the recording did."""
    from gym_mame.tools.recording import replay

    bar = LazyBar(unit="step", leave=False, disable=args.quiet)
    try:
        result = replay(args.folder, rom_path=args.rom_path, inputs=args.inputs, progress=bar)
    finally:
        bar.close()
    print(f"replayed {result.expected['steps']} steps of {result.expected['game']} "
          f"(inputs from {'the .inp only' if result.inputs == 'inp' else '.inp + actions'}; "
          f"MAME played back {result.playback_frames} frames)")
    for name, value in result.got["variables"].items():
        mark = "" if result.expected["variables"].get(name) == value else "   <- differs"
        print(f"  {name} = {value}{mark}")
    for note in result.notes:
        print(f"  note: {note}")
    if result.ok:
        print("OK: the replay ends in the recorded variables, RAM and machine state")
        return 0
    print("MISMATCH: " + "; ".join(result.mismatches))
    return 1

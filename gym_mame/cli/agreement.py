"""``gym-mame agreement``: gym_mame's games against a reference implementation (ALE by
default; PettingZoo, stable-retro or nes-py with a flag), all reported alike: a line per
game as it finishes, the table's summary, the table written with ``--markdown``; exit 3
when a game does not agree."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from gym_mame.agreement.reference import Reference, run
from gym_mame.cli.options import non_negative, positive
from gym_mame.cli.registry import command


def _agreement_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("games", nargs="*",
                        help="ALE game names, e.g. breakout (default: every a2600 game)")
    parser.add_argument("--episodes", type=positive, default=10,
                        help="episodes per game and side")
    parser.add_argument("--max-steps", type=positive, default=2500, help="step cap per episode")
    parser.add_argument("--seed", type=non_negative, default=0, help="seed of the first episode")
    parser.add_argument("--jobs", type=positive, default=1, help="games compared in parallel")
    parser.add_argument("--pettingzoo", action="store_true",
                        help="instead: multi-player games against PettingZoo's Atari envs "
                        "(names such as boxing_v2; needs pettingzoo, multi-agent-ale-py, "
                        "supersuit)")
    parser.add_argument("--retro", action="store_true",
                        help="instead: integrations of stable-retro games against stable-retro "
                        "(names such as genesis-airstriker; needs stable-retro)")
    parser.add_argument("--nes", action="store_true",
                        help="instead: NES games against nes-py (gym-super-mario-bros), the "
                        "work RAM frame by frame, then the table (needs scripts/"
                        "nes_reference_venv)")
    parser.add_argument("--frames", type=positive, default=3000,
                        help="with --nes: frames of the frame-by-frame RAM comparison")
    parser.add_argument("--markdown", metavar="FILE",
                        help="write the table to FILE (default: print only)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def reference_of(args: argparse.Namespace) -> Reference:
    """The reference the flags choose (ALE when none is given)."""
    if args.pettingzoo:
        from gym_mame.agreement.pettingzoo import PettingZoo

        return PettingZoo()
    if args.retro:
        from gym_mame.agreement.retro import StableRetro

        return StableRetro()
    if args.nes:
        from gym_mame.agreement.nes import NesPy

        return NesPy(frames=args.frames)
    from gym_mame.agreement.ale import Ale

    return Ale()


@command("agreement", "compare Atari 2600 games with ALE, same seeded random "
         "policy (needs ale-py)", arguments=_agreement_arguments)
def cmd_agreement(args: argparse.Namespace) -> int:
    """Play the same seeded random policy in a reference and in gym_mame; print the
    comparison."""
    from gym_mame.integration.names import unknown

    with reference_of(args) as reference:
        known = reference.games()
        games = args.games or known
        for game in games:  # every name checked before minutes of work
            if game not in known:
                raise unknown(reference.kind, game, known, reference.hint)
        # episodes of both sides, on stderr; the rows go to stdout above it (tqdm.write)
        bar = tqdm(total=2 * args.episodes * len(games), unit="episode", leave=False,
                   file=sys.stderr, disable=args.quiet)

        def report(row: object) -> None:
            bar.write(reference.line(row), file=sys.stdout)
            sys.stdout.flush()  # each game's row as it comes, through a pipe too

        try:
            rows = run(reference, games, args.episodes, args.max_steps, args.seed, args.jobs,
                       report, bar.update)
        finally:
            bar.close()
        table = reference.markdown(rows, args.episodes, args.max_steps, args.seed)
    print(table.rsplit("\n", 1)[-1])
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
        print(f"table written to {args.markdown}")
    return 0 if all(r.agrees for r in rows) else 3

"""The ``gym-mame`` console command (also ``python -m gym_mame``).

    gym-mame                      # a random agent plays Mame/pong-v0 for one episode
    gym-mame run --env Mame/a2600-breakout-v0 --episodes 3 --record breakout.mp4
    gym-mame list                 # every integration and whether it can run here
    gym-mame bench                # env speed against raw MAME speed
    gym-mame make-state pong      # rebuild an integration's start state
    gym-mame agreement breakout   # Atari 2600 games against the Arcade Learning Environment

argparse (standard library) is enough for a handful of sub-commands and adds
no dependency; tqdm draws the progress bar (small, pure Python, ubiquitous).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from gym_mame.errors import GymMameError

DEFAULT_ENV = "Mame/pong-v0"


def _env_id(name: str) -> str:
    return name if "/" in name else f"Mame/{name}-v0"


def cmd_run(args: argparse.Namespace) -> int:
    """Run an agent (random or no-op) for some episodes; print returns and speed."""
    from gym_mame.video import VideoWriter

    kwargs = {"frameskip": args.frameskip}
    if args.rom_path:
        kwargs["rom_path"] = args.rom_path
    env = gym.make(_env_id(args.env), render_mode="rgb_array" if args.record else None,
                   max_episode_steps=args.max_steps, **kwargs)
    env.action_space.seed(args.seed)
    writer = VideoWriter(args.record, env.metadata["render_fps"]) if args.record else None
    returns = []
    try:
        total_steps, started = 0, time.perf_counter()
        for episode in range(args.episodes):
            env.reset(seed=args.seed + episode)
            episode_return, steps, done = 0.0, 0, False
            bar = tqdm(desc=f"episode {episode + 1}/{args.episodes}", unit="step",
                       total=args.max_steps, leave=False, disable=args.quiet)
            if writer:
                writer.add(env.render())
            while not done:
                action = env.action_space.sample() if args.agent == "random" else 0
                _, reward, terminated, truncated, _ = env.step(action)
                episode_return += float(reward)
                steps += 1
                done = terminated or truncated
                bar.update()
                bar.set_postfix(ret=f"{episode_return:g}", refresh=False)
                if writer:
                    writer.add(env.render())
            bar.close()
            total_steps += steps
            returns.append(episode_return)
            end = "terminated" if terminated else "truncated"
            print(f"episode {episode + 1}: return {episode_return:g} in {steps} steps ({end})")
        elapsed = time.perf_counter() - started
    finally:
        env.close()
        if writer:
            writer.close()
    print(f"{args.episodes} episode(s) of {_env_id(args.env)}: mean return "
          f"{np.mean(returns):g}, {total_steps / elapsed:.0f} steps/s "
          f"({total_steps * args.frameskip / elapsed:.0f} emulated frames/s)")
    if writer:
        print(f"video written to {args.record}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print every integration and whether MAME and its ROM are available here."""
    from gym_mame.bridge import find_mame
    from gym_mame.errors import MameNotFoundError
    from gym_mame.integration import find_folders, load
    from gym_mame.roms import find_cartridge, rom_paths, rom_set_present

    try:
        mame = find_mame()
    except MameNotFoundError as exc:
        mame = None
        print(f"MAME: not found ({exc})")
    else:
        print(f"MAME: {mame}")
    paths = rom_paths(args.rom_path)
    rows = [("id", "machine", "ROM", "runs here", "title")]
    for name in find_folders():
        try:
            game = load(name)
        except GymMameError as exc:
            rows.append((f"Mame/{name}-v0", "?", "invalid", "no", str(exc)[:60]))
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
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]))
    print(f"ROM path: {', '.join(str(p) for p in paths)}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from gym_mame.bench import run_benchmark

    run_benchmark([_env_id(g) for g in args.games], steps=args.steps, repeats=args.repeats,
                  frameskip=args.frameskip, seconds=args.raw_seconds)
    return 0


def cmd_make_state(args: argparse.Namespace) -> int:
    """Rebuild an integration's start state from its boot sequence and save it there."""
    import json
    import shutil

    from gym_mame.env import START_STATE, MameEnv
    from gym_mame.integration import load

    game = load(args.game)
    if not game.boot:
        print(f"{game.name} has no boot sequence in metadata.json", file=sys.stderr)
        return 2
    state_file = game.folder / "start.sta"
    env = MameEnv(str(game.folder), rom_path=args.rom_path, rebuild_start_state=True)
    try:
        shutil.copyfile(env.bridge.state_path(START_STATE), state_file)
        meta_path = game.folder / "metadata.json"
        meta = json.loads(meta_path.read_text())
        meta.setdefault("start", {})["state"] = state_file.name
        meta["start"]["mame_version"] = env.mame_version
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    finally:
        env.close()
    print(f"wrote {state_file} (MAME {env.mame_version})")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    """Play the same seeded random policy in ALE and gym_mame; print the comparison."""
    from pathlib import Path

    from gym_mame import agreement

    games = args.games or agreement.ale_games()

    def report(row: agreement.Row) -> None:
        if row.problem:
            print(f"{row.game:<20} cannot compare: {row.problem}", flush=True)
            return
        print(f"{row.game:<20} return ALE {agreement._fmt(row.ale.returns):>16} "
              f"gym_mame {agreement._fmt(row.mame.returns):>16} | length ALE "
              f"{agreement._fmt(row.ale.lengths):>16} gym_mame "
              f"{agreement._fmt(row.mame.lengths):>16} | agree: "
              f"{'yes' if row.returns_agree and row.lengths_agree else 'NO'}", flush=True)

    rows = agreement.run(games, args.episodes, args.max_steps, args.seed, args.jobs, report)
    table = agreement.markdown(rows, args.episodes, args.max_steps, args.seed)
    print(table.rsplit("\n", 1)[-1])
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
        print(f"table written to {args.markdown}")
    return 0 if all(r.returns_agree and r.lengths_agree for r in rows) else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gym-mame", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run an agent on an env (the default command)")
    run.add_argument("--env", default=DEFAULT_ENV, help=f"env id or game name ({DEFAULT_ENV})")
    run.add_argument("--episodes", type=int, default=1)
    run.add_argument("--max-steps", type=int, default=None, help="truncate episodes")
    run.add_argument("--agent", choices=["random", "noop"], default="random")
    run.add_argument("--frameskip", type=int, default=4)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--record", metavar="FILE.mp4", help="save the episodes as a video")
    run.add_argument("--rom-path", help="folder with ROM sets / cartridges")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    lst = sub.add_parser("list", help="list integrations and whether they can run here")
    lst.add_argument("--rom-path")
    lst.set_defaults(func=cmd_list)

    bench = sub.add_parser("bench", help="env speed against raw MAME speed (-str)")
    bench.add_argument("games", nargs="*", default=["pong", "a2600-breakout"])
    bench.add_argument("--steps", type=int, default=1000, help="env steps per repeat")
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--frameskip", type=int, default=4)
    bench.add_argument("--raw-seconds", type=float, default=20,
                       help="emulated seconds per raw MAME run")
    bench.set_defaults(func=cmd_bench)

    state = sub.add_parser("make-state", help="rebuild an integration's start state file")
    state.add_argument("game", help="game name or integration folder")
    state.add_argument("--rom-path")
    state.set_defaults(func=cmd_make_state)

    agree = sub.add_parser("agreement", help="compare Atari 2600 games with ALE (needs ale-py)")
    agree.add_argument("games", nargs="*", help="ALE game names (default: every a2600 game)")
    agree.add_argument("--episodes", type=int, default=10)
    agree.add_argument("--max-steps", type=int, default=2500, help="step cap per episode")
    agree.add_argument("--seed", type=int, default=0)
    agree.add_argument("--jobs", type=int, default=1, help="games compared in parallel")
    agree.add_argument("--markdown", metavar="FILE", help="write the table to FILE")
    agree.set_defaults(func=cmd_agreement)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "run")
    args = build_parser().parse_args(argv)
    import gym_mame  # noqa: F401  (registers the envs)

    try:
        return args.func(args)
    except GymMameError as exc:
        print(f"gym-mame: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

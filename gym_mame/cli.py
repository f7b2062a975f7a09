"""The ``gym-mame`` console command (also ``python -m gym_mame``).

    gym-mame                      # a random agent plays Mame/pong-v0 for one episode
    gym-mame run --env Mame/a2600-breakout-v0 --episodes 3 --record breakout.mp4
    gym-mame list                 # every integration and whether it can run here
    gym-mame bench                # env speed against raw MAME speed
    gym-mame make-state pong      # rebuild an integration's start state
    gym-mame agreement breakout   # Atari 2600 games against the Arcade Learning Environment
    gym-mame studio a2600 --cart breakout.bin   # find variables, write an integration
    gym-mame machines pong        # MAME machines matching a term, and whether their ROMs are here
    gym-mame ports a2600 --cart breakout.bin   # a machine's input ports and fields
    gym-mame validate pong        # play an integration briefly; check its variables
    gym-mame record a2600-breakout --out rec/  # record a seeded play (MAME .inp + states)
    gym-mame replay rec/          # replay it and check it ends in the same state

argparse (standard library) is enough for a handful of sub-commands and adds
no dependency; tqdm draws the progress bar (small, pure Python, ubiquitous).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from gym_mame.errors import GymMameError, RomNotFoundError

DEFAULT_ENV = "Mame/pong-v0"
# Commands that report a missing ROM with exit code 2 (the others keep 1).
ROM_EXIT_2 = ("machines", "ports", "validate", "record", "replay")


def _env_id(name: str) -> str:
    return name if "/" in name else f"Mame/{name}-v0"


def cmd_run(args: argparse.Namespace) -> int:
    """Run an agent (random or no-op) for some episodes; print returns and speed."""
    from gym_mame.video import VideoWriter, ffmpeg_exe

    if args.record:
        ffmpeg_exe()  # no encoder: say so before MAME starts
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
        print(f"{row.game:<20} return ALE {agreement.mean_se_text(row.ale.returns):>16} "
              f"gym_mame {agreement.mean_se_text(row.mame.returns):>16} | length ALE "
              f"{agreement.mean_se_text(row.ale.lengths):>16} gym_mame "
              f"{agreement.mean_se_text(row.mame.lengths):>16} | agree: "
              f"{'yes' if row.agrees else 'NO'}", flush=True)

    rows = agreement.run(games, args.episodes, args.max_steps, args.seed, args.jobs, report)
    table = agreement.markdown(rows, args.episodes, args.max_steps, args.seed)
    print(table.rsplit("\n", 1)[-1])
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
        print(f"table written to {args.markdown}")
    return 0 if all(r.agrees for r in rows) else 3


def cmd_machines(args: argparse.Namespace) -> int:
    """Search MAME's machines by short name or description; show whether ROMs are here."""
    from gym_mame.roms import rom_paths
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
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:5], widths, strict=True)]
        print("  ".join([*cells, row[5]]))
    notes = []
    if len(shown) < len(found):
        notes.append(f"{len(found) - len(shown)} more matches not shown (--limit N or --all)")
    if devices:
        notes.append(f"{len(devices)} device(s) hidden: " + ", ".join(d.name for d in devices))
    for note in notes:
        print(note)
    print(f"ROM path: {', '.join(str(p) for p in paths)}")
    return 0


def cmd_ports(args: argparse.Namespace) -> int:
    """Start a machine and print its input ports and fields."""
    from pathlib import Path

    from gym_mame.roms import rom_paths
    from gym_mame.tools.ports import analog_controls, format_ports, machine_description

    media = {}
    if args.cart:
        media["cart"] = str(Path(args.cart).resolve())
    description = machine_description(args.machine, media, rom_paths(args.rom_path))
    print(format_ports(description, analog_controls(args.machine)))
    return 0


def _action_list(text: str) -> list[int]:
    try:
        return [int(a) for a in text.split(",") if a.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of action indices: {text!r}") from None


def cmd_validate(args: argparse.Namespace) -> int:
    """Load an integration, play it briefly, and report what its variables did."""
    from gym_mame.errors import IntegrationError
    from gym_mame.integration import load
    from gym_mame.tools.validate import format_report, validate

    try:
        game = load(args.game)
    except IntegrationError as exc:
        print(f"gym-mame validate: the integration does not load: {exc}", file=sys.stderr)
        return 1
    print(f"{game.env_id}: {game.title} (machine {game.machine}, folder {game.folder})")
    bar = tqdm(total=args.steps, unit="step", leave=False, disable=args.quiet)
    try:
        report = validate(game.folder, steps=args.steps, agent=args.agent, seed=args.seed,
                          rom_path=args.rom_path, actions=args.actions, progress=bar)
    finally:
        bar.close()
    print(format_report(report))
    if args.strict and report.warnings:
        return 1
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Record a seeded play (or the keyboard, with --human) into MAME's .inp format."""
    from gym_mame.tools.recording import record

    bar = tqdm(total=args.steps, unit="step", leave=False, disable=args.quiet or args.human)
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


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a recording with MAME's -playback and check it ends where the recording did."""
    from gym_mame.tools.recording import replay

    result = replay(args.folder, rom_path=args.rom_path, inputs=args.inputs)
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


def cmd_studio(args: argparse.Namespace) -> int:
    """Serve the integration studio for a machine on 127.0.0.1 until Ctrl-C."""
    from gym_mame.studio.server import run_studio

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

    studio = sub.add_parser("studio", help="web page to find variables and write an "
                            "integration (127.0.0.1 only)")
    studio.add_argument("target", help="MAME machine (e.g. pong, a2600) or integration")
    studio.add_argument("--cart", metavar="FILE", help="cartridge file for the machine")
    studio.add_argument("--port", type=int, default=8642, help="local port (0: any free one)")
    studio.add_argument("--slot", action="append", metavar="NAME=VALUE",
                        help="MAME slot option, e.g. joyport1=pad (paddles on an Atari 2600)")
    studio.add_argument("--rom-path")
    studio.add_argument("--out", metavar="DIR", help="where folders are written by default "
                        "(first $GYM_MAME_INTEGRATIONS entry, else ./integrations)")
    studio.set_defaults(func=cmd_studio)

    machines = sub.add_parser("machines", help="search MAME's machines; are their ROMs here?")
    machines.add_argument("term", help="part of a short name or description, e.g. pong")
    machines.add_argument("--limit", type=int, default=20, help="machines to check (20)")
    machines.add_argument("--all", action="store_true", help="check every match (slower)")
    machines.add_argument("--rom-path")
    machines.set_defaults(func=cmd_machines)

    ports = sub.add_parser("ports", help="a machine's input ports and fields")
    ports.add_argument("machine", help="MAME machine name, e.g. pong or a2600")
    ports.add_argument("--cart", metavar="FILE", help="cartridge file for consoles")
    ports.add_argument("--rom-path")
    ports.set_defaults(func=cmd_ports)

    check = sub.add_parser("validate", help="play an integration briefly and check it")
    check.add_argument("game", help="game name or integration folder")
    check.add_argument("--steps", type=int, default=300)
    check.add_argument("--agent", choices=["random", "noop"], default="random")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--actions", type=_action_list, metavar="I,J,...",
                       help="scripted play: these action indices, repeated (overrides --agent)")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings")
    check.add_argument("--rom-path")
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_validate)

    rec = sub.add_parser("record", help="record a play in MAME's input format (.inp)")
    rec.add_argument("game", help="game name or integration folder")
    rec.add_argument("--out", required=True, metavar="DIR", help="recording folder")
    rec.add_argument("--steps", type=int, default=300, help="at most this many steps")
    rec.add_argument("--agent", choices=["random", "noop"], default="random")
    rec.add_argument("--seed", type=int, default=0)
    rec.add_argument("--human", action="store_true",
                     help="play yourself in MAME's window (needs a display)")
    rec.add_argument("--rom-path")
    rec.add_argument("--quiet", action="store_true", help="no progress bar")
    rec.set_defaults(func=cmd_record)

    rep = sub.add_parser("replay", help="replay a recording and check that it matches")
    rep.add_argument("folder", help="a folder made by gym-mame record")
    rep.add_argument("--inputs", choices=["auto", "inp", "actions"], default="auto",
                     help="inp: only the .inp drives the inputs; actions: the recorded "
                     "actions too (needed for analog inputs); auto: pick")
    rep.add_argument("--rom-path")
    rep.set_defaults(func=cmd_replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "run")
    args = build_parser().parse_args(argv)
    import gym_mame  # noqa: F401  (registers the envs)

    try:
        return args.func(args)
    except RomNotFoundError as exc:
        print(f"gym-mame: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2 if args.command in ROM_EXIT_2 else 1
    except GymMameError as exc:
        print(f"gym-mame: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

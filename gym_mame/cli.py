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
# dependency; tqdm draws the progress bars (small, pure Python, ubiquitous).

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from gym_mame.errors import GymMameError, IntegrationError, RomNotFoundError, UnknownNameError
from gym_mame.tools.validate import EPISODE_CAP as VALIDATE_CAP

DEFAULT_ENV = "Mame/pong-v0"
# Commands that report a missing ROM with exit code 2 (the others keep 1).
ROM_EXIT_2 = ("machines", "ports", "validate", "record", "replay")
LIST_HINT = "`gym-mame list` shows them all"


def _env_id(name: str) -> str:
    """The registered env id for an env id or a game name; else the closest names."""
    import gym_mame  # noqa: F401  (registers the Mame/ envs)
    from gym_mame.integration import find_folders
    from gym_mame.names import unknown

    env_id = name if "/" in name else f"Mame/{name}-v0"
    if env_id in gym.registry:
        return env_id
    games = list(find_folders())
    if "/" in name and not name.startswith("Mame/"):  # another namespace, e.g. ALE/
        raise unknown("env", name, [str(k) for k in gym.registry], LIST_HINT)
    raise unknown("env", name.removeprefix("Mame/").removesuffix("-v0"), games,
                  f"Give a game name (a2600-breakout) or an env id "
                  f"(Mame/a2600-breakout-v0); {LIST_HINT}")


def _check_game(name: str) -> None:
    """Fail early, before any progress bar, on a game that is neither known nor a folder."""
    from pathlib import Path

    from gym_mame.integration import find_folders
    from gym_mame.names import unknown

    if (Path(name) / "metadata.json").is_file() or name in find_folders():
        return
    raise unknown("game", name, find_folders(), f"Give a game name or an integration folder; "
                  f"{LIST_HINT}")


def _check_machine(name: str, also: Sequence[str] = (), kind: str = "MAME machine") -> None:
    """Fail on a MAME machine name MAME does not know, naming the closest ones."""
    from gym_mame.bridge import find_mame
    from gym_mame.names import unknown
    from gym_mame.tools.machines import list_all

    machines = [n for n, _ in list_all(find_mame())]
    if name not in machines:
        raise unknown(kind, name, [*also, *machines],
                      "`gym-mame machines TERM` searches MAME's machines")


def cmd_run(args: argparse.Namespace) -> int:
    """Run an agent (random or no-op) for some episodes; print returns and speed."""
    from gym_mame.video import VideoWriter, ffmpeg_exe

    if args.record:
        ffmpeg_exe()  # no encoder: say so before MAME starts
    env_id = _env_id(args.env)
    kwargs = {"frameskip": args.frameskip}
    if args.rom_path:
        kwargs["rom_path"] = args.rom_path
    env = gym.make(env_id, render_mode="rgb_array" if args.record else None,
                   max_episode_steps=args.max_steps, **kwargs)
    env.action_space.seed(args.seed)
    writer, returns = None, []
    try:
        if args.record:
            writer = VideoWriter(args.record, env.metadata["render_fps"])
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
    print(f"{args.episodes} episode(s) of {env_id}: mean return "
          f"{np.mean(returns):g}, {total_steps / elapsed:.0f} steps/s "
          f"({total_steps * args.frameskip / elapsed:.0f} emulated frames/s)")
    if writer:
        print(f"video written to {args.record}")
    return 0


def cmd_list_game(name: str) -> int:
    """Print one integration's players, start states, scenarios and game options."""
    from gym_mame.integration import list_scenarios, list_states, load

    _check_game(name)
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


def cmd_import_roms(args: argparse.Namespace) -> int:
    """Copy the cartridges and ROM sets of known games found in a folder into the ROM path."""
    from gym_mame.rom_import import default_target, import_roms

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


def cmd_import_retro(args: argparse.Namespace) -> int:
    """Turn a gym-retro / stable-retro integration folder into a gym_mame one."""
    from gym_mame.retro_import import import_retro

    result = import_retro(args.folder, args.out, overwrite=args.force)
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


def cmd_list(args: argparse.Namespace) -> int:
    """Print every integration and whether MAME and its ROM are available here."""
    if args.game:
        return cmd_list_game(args.game)
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

    env_ids = [_env_id(g) for g in args.games]  # every name checked before minutes of work
    bar: tqdm | None = None

    def progress(what: str, done: int, total: int) -> None:
        # One bar per game on stderr; the table rows go to stdout between them.
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", leave=False, file=sys.stderr)
        bar.n = done
        bar.set_description(what)
        if done >= total:
            bar.close()
            bar = None

    try:
        if args.vector:
            from gym_mame.vector_bench import run_vector_benchmark

            for env_id in env_ids:
                run_vector_benchmark(env_id, args.vector, steps=args.steps,
                                     repeats=args.repeats, frameskip=args.frameskip,
                                     progress=None if args.quiet else progress)
            return 0
        run_benchmark(env_ids, steps=args.steps, repeats=args.repeats,
                      frameskip=args.frameskip, progress=None if args.quiet else progress)
    finally:
        if bar is not None:
            bar.close()
    return 0


def cmd_make_state(args: argparse.Namespace) -> int:
    """Rebuild a start state of an integration from its boot sequence and save it there."""
    import json
    import shutil
    from dataclasses import replace

    from gym_mame.emulator import START_STATE, Emulator
    from gym_mame.integration import load
    from gym_mame.starts import DEFAULT_STATE, choose

    _check_game(args.game)
    game = load(args.game)
    name = args.state or game.default_state
    if name not in game.states:
        print(f"{game.name} has no state {name!r}; its states: {', '.join(game.states)}",
              file=sys.stderr)
        return 2
    start = choose(game, name, {})[0]
    if not start.boot:
        print(f"{game.name}: state {name!r} has no boot sequence in metadata.json",
              file=sys.stderr)
        return 2
    state_file = game.folder / (start.file.name if start.file is not None else f"{name}.sta")
    env = Emulator(replace(game, starts=(start,)), rom_path=args.rom_path)
    try:
        env.prepare_start(rebuild=True)
        shutil.copyfile(env.state_file(START_STATE), state_file)
        meta_path = game.folder / "metadata.json"
        meta = json.loads(meta_path.read_text())
        entry = meta.setdefault("start", {}) if name == DEFAULT_STATE \
            else meta.setdefault("states", {}).setdefault(name, {})
        entry["state"] = state_file.name
        entry["mame_version"] = env.mame_version
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    finally:
        env.close()
    print(f"wrote {state_file} (MAME {env.mame_version})")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    """Play the same seeded random policy in ALE and gym_mame; print the comparison."""
    from pathlib import Path

    from gym_mame import agreement

    if args.pettingzoo:
        return _pettingzoo_agreement(args)
    if args.retro:
        return _retro_agreement(args)
    known = agreement.ale_games()
    games = args.games or known
    for game in games:
        if game not in known:
            from gym_mame.names import unknown

            raise unknown("ALE game", game, known, "Agreement takes ALE names such as "
                          "breakout (the a2600-* games without the prefix)")

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


def _retro_agreement(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gym_mame import retro_agreement as ra
    from gym_mame.names import unknown

    games = args.games or list(ra.RETRO_GAMES)
    for game in games:
        if game not in ra.RETRO_GAMES:
            raise unknown("integration with a stable-retro game", game, list(ra.RETRO_GAMES),
                          "--retro takes gym_mame integration names")
    rows = [ra.compare(g, args.episodes, args.max_steps, args.seed) for g in games]
    table = ra.markdown(rows, args.episodes, args.max_steps, args.seed, 4)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
        print(f"table written to {args.markdown}")
    return 0 if all(r.agrees for r in rows) else 3


def _pettingzoo_agreement(args: argparse.Namespace) -> int:
    """``agreement --pettingzoo``: multi-player games against PettingZoo's Atari envs."""
    from pathlib import Path

    from gym_mame import pettingzoo_agreement as pz
    from gym_mame.agreement import mean_se_text
    from gym_mame.names import unknown

    known = pz.games()
    names = args.games or sorted(known)
    for name in names:
        if name not in known:
            raise unknown("PettingZoo Atari env", name, sorted(known),
                          "Agreement --pettingzoo takes names such as boxing_v2")

    def report(row: pz.MultiRow) -> None:
        if row.problem:
            print(f"{row.game:<24} cannot compare: {row.problem}", flush=True)
            return
        returns = "; ".join(f"{a} PettingZoo {mean_se_text(row.reference.returns[a])} "
                            f"gym_mame {mean_se_text(row.mame.returns[a])}"
                            for a in row.reference.returns)
        print(f"{row.game:<24} {returns} | length PettingZoo "
              f"{mean_se_text(row.reference.lengths)} gym_mame {mean_se_text(row.mame.lengths)}"
              f" | agree: {'yes' if row.agrees else 'NO'}", flush=True)

    rows = pz.run(names, args.episodes, args.max_steps, args.seed, report)
    table = pz.markdown(rows, args.episodes, args.max_steps, args.seed)
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

    _check_machine(args.machine)
    media = {}
    if args.cart:
        media["cart"] = str(Path(args.cart).resolve())
    description = machine_description(args.machine, media, rom_paths(args.rom_path))
    print(format_ports(description, analog_controls(args.machine)))
    return 0


def _size_list(text: str) -> list[int]:
    try:
        sizes = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"not a list of sub-env counts: {text!r}")
    return sizes


def _action_list(text: str) -> list[int]:
    try:
        return [int(a) for a in text.split(",") if a.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of action indices: {text!r}") from None


def cmd_validate(args: argparse.Namespace) -> int:
    """Load an integration, play it briefly, and report what its variables did."""
    from gym_mame.integration import load
    from gym_mame.tools.validate import format_report, validate

    _check_game(args.game)
    try:
        game = load(args.game)
    except IntegrationError as exc:
        print(f"gym-mame validate: the integration does not load: {exc}", file=sys.stderr)
        return 1
    print(f"{game.env_id}: {game.title} (machine {game.machine}, folder {game.folder})")
    if game.checks:  # printed first: they help most when the play below fails
        print("To confirm by looking at the game (metadata.json \"checks\"):")
        print("\n".join(f"  - {what}: {how}" for what, how in game.checks))
    bar = tqdm(total=args.steps or VALIDATE_CAP, unit="step", leave=False,
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


def cmd_record(args: argparse.Namespace) -> int:
    """Record a seeded play (or the keyboard, with --human) into MAME's .inp format."""
    from gym_mame.tools.recording import record

    _check_game(args.game)
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
    from pathlib import Path

    from gym_mame.integration import find_folders
    from gym_mame.studio.server import run_studio

    games = find_folders()
    if not (Path(args.target) / "metadata.json").is_file() and args.target not in games:
        _check_machine(args.target, also=list(games), kind="MAME machine or integration")
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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and appends "(default: X)" to each option's help, unless
    the help already says what the default is (options whose default is None or a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default == []
                or default == argparse.SUPPRESS):
            return text
        if isinstance(default, list):
            default = " ".join(map(str, default))
        return f"{text} (default: {default})"


ROM_PATH_HELP = ("folder(s) with ROM sets and cartridges, ':'-separated (default: "
                 "$GYM_MAME_ROMPATH, then ~/mame/roms and /usr/share/games/mame/roms)")


def _add(sub: argparse._SubParsersAction, name: str, help_text: str,
         ) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:]
                          + ".", formatter_class=_HelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gym-mame", description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=_HelpFormatter)
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    run = _add(sub, "run", "run an agent on an env and print returns and speed (the default "
               "command)")
    run.add_argument("--env", default=DEFAULT_ENV,
                     help="env id (Mame/pong-v0) or game name (pong, a2600-breakout)")
    run.add_argument("--episodes", type=int, default=1, help="episodes to play")
    run.add_argument("--max-steps", type=int, default=None,
                     help="truncate each episode after this many steps (default: play until "
                     "it ends)")
    run.add_argument("--agent", choices=["random", "noop"], default="random",
                     help="random actions (seeded by --seed) or always NOOP")
    run.add_argument("--frameskip", type=int, default=4, help="emulated frames per step")
    run.add_argument("--seed", type=int, default=0,
                     help="seed of the first episode's reset and of the random agent; "
                     "episode i uses seed + i")
    run.add_argument("--record", metavar="FILE.mp4",
                     help="save the episodes as an H.264 video, as render() shows them "
                     '(needs pip install "gym_mame[video]"; default: no video)')
    run.add_argument("--rom-path", help=ROM_PATH_HELP)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    lst = _add(sub, "list", "list the integrations and whether each can run here; with a "
               "game, its players, start states, scenarios and options")
    lst.add_argument("game", nargs="?", help="show this game's states, scenarios and "
                     "options (default: list every game)")
    lst.add_argument("--rom-path", help=ROM_PATH_HELP)
    lst.set_defaults(func=cmd_list)

    imp = _add(sub, "import-roms", "find the cartridges and ROM sets of known games in a "
               "folder (by checksum, and MAME's own verification for arcade sets) and copy "
               "them into the ROM path")
    imp.add_argument("folder", help="folder to search (sub-folders and zip archives too)")
    imp.add_argument("--to", help="ROM folder to import into (default: the first of "
                     "$GYM_MAME_ROMPATH, else ~/.mame/roms)")
    imp.add_argument("--link", action="store_true", help="symlink instead of copying "
                     "(files inside archives are always copied)")
    imp.set_defaults(func=cmd_import_roms)

    retro = _add(sub, "import-retro", "turn a gym-retro / stable-retro integration folder "
                 "(Genesis, NES, SNES, Master System, PC Engine) into a gym_mame folder")
    retro.add_argument("folder", help="the gym-retro folder (with data.json), or a game of "
                       "the installed stable-retro, e.g. Airstriker-Genesis-v0")
    retro.add_argument("--out", help="folder to write (default: "
                       "integrations/<machine>-<game> under the current folder)")
    retro.add_argument("--force", action="store_true",
                       help="overwrite the files of an existing folder")
    retro.set_defaults(func=cmd_import_retro)

    bench = _add(sub, "bench", "measure env speed as a share of raw MAME speed (-str), "
                 "in the same run")
    bench.add_argument("games", nargs="*", default=["pong", "a2600-breakout"],
                       help="game names or env ids")
    bench.add_argument("--steps", type=int, default=1000,
                       help="random env steps per measurement; raw MAME runs the same "
                       "number of emulated frames, so the two take about as long")
    bench.add_argument("--repeats", type=int, default=5,
                       help="measurements of each kind, raw and env alternating; figures are "
                       "medians, ratios the median of the per-round ratios")
    bench.add_argument("--frameskip", type=int, default=4, help="emulated frames per step")
    bench.add_argument("--vector", type=_size_list, metavar="N,N,...",
                       help="instead: N sub-envs at once against N raw MAMEs run together "
                       "(native vector env, its async batches, Gymnasium's AsyncVectorEnv, "
                       "ALE's vector env), e.g. 1,2,4,8; --steps then counts per sub-env (default: "
                       "one env, against one raw MAME)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(func=cmd_bench)

    state = _add(sub, "make-state", "rebuild an integration's start state file from its "
                 "boot sequence")
    state.add_argument("game", help="game name or integration folder")
    state.add_argument("--state", help="which named state (default: the integration's "
                       "default state)")
    state.add_argument("--rom-path", help=ROM_PATH_HELP)
    state.set_defaults(func=cmd_make_state)

    agree = _add(sub, "agreement", "compare Atari 2600 games with ALE, same seeded random "
                 "policy (needs ale-py)")
    agree.add_argument("games", nargs="*",
                       help="ALE game names, e.g. breakout (default: every a2600 game)")
    agree.add_argument("--episodes", type=int, default=10, help="episodes per game and side")
    agree.add_argument("--max-steps", type=int, default=2500, help="step cap per episode")
    agree.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    agree.add_argument("--jobs", type=int, default=1, help="games compared in parallel")
    agree.add_argument("--pettingzoo", action="store_true",
                       help="instead: multi-player games against PettingZoo's Atari envs "
                       "(names such as boxing_v2; needs pettingzoo, multi-agent-ale-py, "
                       "supersuit)")
    agree.add_argument("--retro", action="store_true",
                       help="instead: integrations of stable-retro games against stable-retro "
                       "(names such as genesis-airstriker; needs stable-retro)")
    agree.add_argument("--markdown", metavar="FILE",
                       help="write the table to FILE (default: print only)")
    agree.set_defaults(func=cmd_agreement)

    studio = _add(sub, "studio", "serve a web page to find variables and write an "
                  "integration (127.0.0.1 only)")
    studio.add_argument("target", help="MAME machine (e.g. pong, a2600) or integration")
    studio.add_argument("--cart", metavar="FILE",
                        help="cartridge file for the machine (default: the integration's, "
                        "or none)")
    studio.add_argument("--port", type=int, default=8642, help="local port (0: any free one)")
    studio.add_argument("--slot", action="append", metavar="NAME=VALUE",
                        help="MAME slot option, e.g. joyport1=pad (paddles on an Atari 2600); "
                        "repeat for more (default: the integration's, or MAME's)")
    studio.add_argument("--rom-path", help=ROM_PATH_HELP)
    studio.add_argument("--out", metavar="DIR", help="where folders are written (default: the "
                        "first $GYM_MAME_INTEGRATIONS entry, else ./integrations)")
    studio.set_defaults(func=cmd_studio)

    machines = _add(sub, "machines", "search MAME's machines; are their ROMs here?")
    machines.add_argument("term", help="part of a short name or description, e.g. pong")
    machines.add_argument("--limit", type=int, default=20, help="matches to check and show")
    machines.add_argument("--all", action="store_true", help="check every match (slower)")
    machines.add_argument("--rom-path", help=ROM_PATH_HELP)
    machines.set_defaults(func=cmd_machines)

    ports = _add(sub, "ports", "list a machine's input ports and fields")
    ports.add_argument("machine", help="MAME machine name, e.g. pong or a2600")
    ports.add_argument("--cart", metavar="FILE",
                       help="cartridge file for consoles (default: none)")
    ports.add_argument("--rom-path", help=ROM_PATH_HELP)
    ports.set_defaults(func=cmd_ports)

    check = _add(sub, "validate", "play an integration and check its variables")
    check.add_argument("game", help="game name or integration folder")
    check.add_argument("--steps", type=int, default=None,
                       help="stop after this many steps (default: play until the episode "
                       f"ends, at most {VALIDATE_CAP} steps)")
    check.add_argument("--agent", choices=["random", "noop"], default="random",
                       help="random actions (seeded by --seed) or always NOOP")
    check.add_argument("--seed", type=int, default=0, help="seed of the reset and the agent")
    check.add_argument("--actions", type=_action_list, metavar="I,J,...",
                       help="scripted play: these action indices, repeated (overrides "
                       "--agent; default: none)")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings")
    check.add_argument("--rom-path", help=ROM_PATH_HELP)
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_validate)

    rec = _add(sub, "record", "record a play in MAME's input format (.inp), with states")
    rec.add_argument("game", help="game name or integration folder")
    rec.add_argument("--out", required=True, metavar="DIR", help="recording folder")
    rec.add_argument("--steps", type=int, default=300, help="at most this many steps")
    rec.add_argument("--agent", choices=["random", "noop"], default="random",
                     help="random actions (seeded by --seed) or always NOOP")
    rec.add_argument("--seed", type=int, default=0, help="seed of the reset and the agent")
    rec.add_argument("--human", action="store_true",
                     help="play yourself in MAME's window (needs a display)")
    rec.add_argument("--rom-path", help=ROM_PATH_HELP)
    rec.add_argument("--quiet", action="store_true", help="no progress bar")
    rec.set_defaults(func=cmd_record)

    rep = _add(sub, "replay", "replay a recording and check that it ends the same")
    rep.add_argument("folder", help="a folder made by gym-mame record")
    rep.add_argument("--inputs", choices=["auto", "inp", "actions"], default="auto",
                     help="inp: only the .inp drives the inputs; actions: the recorded "
                     "actions too (needed for analog inputs); auto: pick")
    rep.add_argument("--rom-path", help=ROM_PATH_HELP)
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
    except UnknownNameError as exc:
        print(f"gym-mame {args.command}: {exc}", file=sys.stderr)
        return 1
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

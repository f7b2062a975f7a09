"""Speed of gym_mame's PettingZoo parallel env against PettingZoo's own Atari env and
against raw MAME (-str) running the same machine, measured in the same run.

    .venv/bin/python scripts/pettingzoo_bench.py --game boxing --steps 3000 --repeats 3

Both envs step every agent with random actions, one frame per step (PettingZoo's Atari
default), RGB observations. Rounds alternate raw MAME, gym_mame and PettingZoo; figures
are medians over rounds, the ratio the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

import gymnasium as gym

import gym_mame
from gym_mame.tools.bench import raw_fps


def parallel_fps(env, steps: int) -> float:
    """Steps (= emulated frames, one per step) per second of a PettingZoo parallel env."""
    env.reset(seed=0)
    start, done = time.perf_counter(), 0
    while done < steps:
        if not env.agents:
            env.reset()
        env.step({a: env.action_space(a).sample() for a in env.agents})
        done += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--game", default="boxing", help="ALE game name with a two-player mode")
    p.add_argument("--version", default="v2", help="PettingZoo env version (boxing_v2)")
    p.add_argument("--steps", type=int, default=3000, help="steps per measurement")
    p.add_argument("--repeats", type=int, default=3, help="rounds")
    args = p.parse_args()

    with gym.make(f"Mame/a2600-{args.game}-v0", frameskip=1) as probe:  # machine, cartridge
        base = probe.unwrapped
        machine, media = base.game.machine, dict(base.bridge.media)
        refresh = base.metadata["render_fps"]
    ours = gym_mame.parallel_env(f"a2600-{args.game}", num_players=2)
    module = importlib.import_module(f"pettingzoo.atari.{args.game}_{args.version}")
    import ale_py
    theirs = module.parallel_env(auto_rom_install_path=ale_py.__path__[0])
    raw, mine, pz, ratios = [], [], [], []
    try:
        for _ in range(args.repeats):
            raw.append(raw_fps(machine, media, refresh, args.steps / refresh))
            mine.append(parallel_fps(ours, args.steps))
            pz.append(parallel_fps(theirs, args.steps))
            ratios.append(mine[-1] / raw[-1])
    finally:
        ours.close()
        theirs.close()
    med = statistics.median
    print(f"{args.game}, 2 players, frameskip 1, RGB, {args.steps} steps x {args.repeats}:")
    print(f"  raw MAME (-str)          {med(raw):8.0f} frames/s")
    print(f"  gym_mame parallel env    {med(mine):8.0f} steps/s  = {med(ratios):.0%} of raw MAME")
    label = f"PettingZoo {args.game}_{args.version}"
    print(f"  {label:<24} {med(pz):8.0f} steps/s  = "
          f"{med(pz) / med(raw):.1f}x raw MAME")


if __name__ == "__main__":
    main()

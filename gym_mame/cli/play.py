"""``gym-mame run``: an agent plays an env; returns and speed."""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from gym_mame.cli.lookup import resolve_env
from gym_mame.cli.options import ROM_PATH_HELP, given, non_negative, positive
from gym_mame.cli.registry import command

DEFAULT_ENV = "Mame/pong-v0"


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=DEFAULT_ENV,
                        help="env id (Mame/pong-v0) or game name (pong, a2600-breakout)")
    parser.add_argument("--episodes", type=positive, default=1, help="episodes to play")
    parser.add_argument("--max-steps", type=positive, default=None,
                        help="truncate each episode after this many steps (default: play until "
                        "it ends)")
    parser.add_argument("--agent", choices=["random", "noop"], default="random",
                        help="random actions (seeded by --seed) or always NOOP")
    parser.add_argument("--frameskip", type=positive, default=None,
                        help="emulated frames per step (default: the env id's own: 4 for the "
                        "a2600 -v0 ids, 1 for NoFrameskip ids)")
    parser.add_argument("--seed", type=non_negative, default=0,
                        help="seed of the first episode's reset and of the random agent; "
                        "episode i uses seed + i")
    parser.add_argument("--record", metavar="FILE.mp4",
                        help="save the episodes as an H.264 video, as render() shows them "
                        '(needs pip install "gym_mame[video]"; default: no video)')
    parser.add_argument("--rom-path", help=ROM_PATH_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("run", "run an agent on an env and print returns and speed (the default "
         "command)",
         arguments=_run_arguments)
def cmd_run(args: argparse.Namespace) -> int:
    """Run an agent (random or no-op) for some episodes; print returns and speed."""
    from gym_mame.tools.video import VideoWriter, ffmpeg_exe

    if args.record:
        ffmpeg_exe()  # no encoder: say so before MAME starts
    env_id = resolve_env(args.env)
    # an option left unset leaves the id's own default (a NoFrameskip id's 1 frame a step)
    kwargs = given(frameskip=args.frameskip, rom_path=args.rom_path or None,
                   max_episode_steps=args.max_steps)
    env = gym.make(env_id, render_mode="rgb_array" if args.record else None, **kwargs)
    frameskip = env.unwrapped.frameskip
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
          f"{np.mean(returns):g}, {total_steps / elapsed:.0f} steps/s at frameskip {frameskip} "
          f"({total_steps * frameskip / elapsed:.0f} emulated frames/s)")
    if writer:
        print(f"video written to {args.record}")
    return 0

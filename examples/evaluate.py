"""Plays checkpoints of examples/ppo.py for whole games and reports how they score: games won,
lost and cut short, and the points difference. Training curves mix policies as they change;
this measures one fixed policy, on the env and features it was trained on, with no return
bonus.

    python examples/evaluate.py docs/learning/pong-ttl-agent.pt --games 12 --seed 500

Each sub-env plays the same number of games (``--games`` / ``--num-envs``), so that short
games are not over-counted. Actions are sampled from the policy, as in training, unless
``--greedy`` takes the likeliest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from ppo import Agent, make_envs, to_tensor


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", nargs="+", type=Path, help="checkpoint files of ppo.py")
    p.add_argument("--games", type=int, default=20, help="games (episodes) per checkpoint")
    p.add_argument("--num-envs", type=int, default=4, help="sub-envs playing at once")
    p.add_argument("--seed", type=int, default=1000, help="seed of the envs and the sampling")
    p.add_argument("--max-frames", type=int, default=20_000,
                   help="frames before a game is cut short: a rally can last the 108,000 "
                        "frames of training's limit, half an hour here")
    p.add_argument("--greedy", action="store_true", help="take the likeliest action")
    return p.parse_args()


def play(saved: dict, games: int, num_envs: int, seed: int, max_frames: int,
         greedy: bool) -> np.ndarray:
    """Plays a loaded checkpoint; returns one row per game: its return (the points
    difference), its length in steps, and 1 if the frame limit cut it short."""
    train = argparse.Namespace(**saved["args"])
    train.num_envs, train.return_bonus, train.max_episode_frames = num_envs, 0.0, max_frames
    envs = make_envs(train)
    agent = Agent(int(np.prod(envs.single_observation_space.shape)),
                  int(envs.single_action_space.n), train.hidden)
    agent.load_state_dict(saved["agent"])
    torch.manual_seed(seed)
    per_env = games // num_envs
    results: list[list[tuple[float, int, bool]]] = [[] for _ in range(num_envs)]
    try:
        obs, _ = envs.reset(seed=seed)
        while min(len(r) for r in results) < per_env:
            with torch.no_grad():
                x = to_tensor(obs).reshape(num_envs, -1)
                if greedy:
                    action = agent.actor(agent.body(x)).argmax(-1)
                else:
                    action = agent.act(x)[0]
            obs, _, _, truncated, info = envs.step(action.numpy())
            if "episode" in info:
                for i in np.flatnonzero(info["_episode"]):
                    if len(results[i]) < per_env:
                        results[i].append((float(info["episode"]["r"][i]),
                                           int(info["episode"]["l"][i]), bool(truncated[i])))
    finally:
        envs.close()
    return np.array([game for r in results for game in r])


def main() -> None:
    args = parse_args()
    if args.games % args.num_envs:
        raise SystemExit(f"--games ({args.games}) must be a multiple of --num-envs "
                         f"({args.num_envs})")
    print("| checkpoint | frames trained | games won | lost | cut short | mean return | min "
          "| max | mean steps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for checkpoint in args.checkpoints:
        saved = torch.load(checkpoint, weights_only=False)
        games = play(saved, args.games, args.num_envs, args.seed, args.max_frames, args.greedy)
        ret, steps, cut, frames = games[:, 0], games[:, 1], games[:, 2] > 0, saved["frames"]
        won, lost = int(((ret > 0) & ~cut).sum()), int(((ret < 0) & ~cut).sum())
        print(f"| {checkpoint.name} | {frames:,} | {won} of {len(ret)} | {lost} | "
              f"{int(cut.sum())} | {ret.mean():+.2f} | {ret.min():+g} | {ret.max():+g} | "
              f"{steps.mean():,.0f} |", flush=True)


if __name__ == "__main__":
    main()

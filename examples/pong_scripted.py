"""A hand-written TTL Pong player, to see what beats the built-in opponent: the paddle follows
the ball's height, and aims off-centre by ``offset`` paddle units while the ball comes back
within 120 columns (a hit off the paddle's edge sends the ball away steeply, the shot the
opponent, which follows the ball a step late at 3 units a frame, cannot always reach).

    python examples/pong_scripted.py --frameskip 2 --offsets -10 -6 0 6 10

Prints each offset's score (agent-opponent) after one game of 11 points or ``--frames``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import gym_mame  # noqa: F401  (registers Mame/pong-v0)

COURT_LEFT = 57  # the left paddle's column


def play(env: gym.Env, offset: float, frameskip: int, frames: int) -> tuple[int, int, int]:
    """(points won, points lost, steps) of one game with this offset."""
    rule = env.unwrapped.game.opponent  # the built-in opponent's rule centres its paddle
    obs, _ = env.reset(seed=0)
    won = lost = steps = 0
    previous_x = None
    while steps * frameskip < frames:
        x = int(obs["ball_x"][0])
        coming = previous_x is not None and x < previous_x and x < COURT_LEFT + 120
        previous_x = x
        centre = rule.scale * int(obs[rule.follow][0]) + rule.offset
        target = centre + (offset if coming else 0)
        error = target - env.unwrapped.emulator.positions["PADDLE"]  # the paddle's value
        step = 2 * frameskip  # half of what a step's nudge moves the paddle
        action = 1 if error > step else 2 if error < -step else 0  # UP, DOWN, NOOP
        obs, reward, terminated, truncated, _ = env.step(action)
        won, lost, steps = won + (reward > 0), lost + (reward < 0), steps + 1
        if terminated or truncated:
            break
    return won, lost, steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frameskip", type=int, default=2, help="frames per step")
    p.add_argument("--offsets", type=float, nargs="+", default=[-10, -6, 0, 6, 10],
                   help="paddle units off the ball's centre when it comes back")
    p.add_argument("--frames", type=int, default=12_000, help="most frames a game may run")
    args = p.parse_args()
    env = gym.make("Mame/pong-v0", obs_type="dict", frameskip=args.frameskip)
    for offset in args.offsets:
        won, lost, steps = play(env, offset, args.frameskip, args.frames)
        print(f"frameskip {args.frameskip}, offset {offset:+g}: {won}-{lost} "
              f"in {steps * args.frameskip} frames", flush=True)
    env.close()


if __name__ == "__main__":
    main()

"""Self-play with a single-agent library: Stable-Baselines3's PPO plays player 1 of
two-player Boxing against a frozen copy of itself, refreshed after every round.

    python examples/self_play.py --rounds 10 --steps 50000

The Gymnasium env of a multi-player game plays the first player; ``opponents=`` gives the
other players' policies, callables from the observation to an action. Here player 2 is a
snapshot of the learner taken at the end of the previous round (NOOP in the first round),
so the learner always trains against a fixed opponent a little weaker than itself.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO

import gym_mame  # noqa: F401  (registers Mame/...)


def scaled(ram: np.ndarray) -> np.ndarray:
    """The learner's input: RAM bytes as floats in [0, 1]."""
    return ram.astype(np.float32) / 255.0


class FrozenCopy:
    """Player 2's policy: the last snapshot of the learner's policy, or NOOP before one."""

    def __init__(self) -> None:
        self.policy = None

    def refresh(self, model: PPO) -> None:
        if self.policy is None:  # a second network of the same shape, then its weights
            self.policy = model.policy_class(model.observation_space, model.action_space,
                                             model.lr_schedule, **model.policy_kwargs)
        self.policy.load_state_dict(model.policy.state_dict())

    def __call__(self, observation: np.ndarray) -> int:
        if self.policy is None:
            return 0  # NOOP
        # the env hands opponents its raw observation: scale it as the learner sees it
        action, _ = self.policy.predict(scaled(observation), deterministic=False)
        return int(action)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--game", default="a2600-boxing", help="a game with a two-player mode")
    p.add_argument("--rounds", type=int, default=10, help="snapshots of the opponent")
    p.add_argument("--steps", type=int, default=50_000, help="agent steps per round")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    opponent = FrozenCopy()
    env = gym.make(f"Mame/{args.game}-v0", obs_type="ram", num_players=2,
                   opponents=[opponent])
    env = gym.wrappers.TransformObservation(
        env, scaled,
        gym.spaces.Box(0.0, 1.0, env.observation_space.shape, np.float32))
    model = PPO("MlpPolicy", env, seed=args.seed, n_steps=512, verbose=0)
    try:
        for round_ in range(args.rounds):
            model.learn(args.steps, reset_num_timesteps=False)
            opponent.refresh(model)
            returns = [e["r"] for e in model.ep_info_buffer]
            mean = f"{np.mean(returns):.1f}" if returns else "no episode yet"
            print(f"round {round_ + 1}: {model.num_timesteps} steps, "
                  f"return against the previous snapshot {mean}")
    finally:
        env.close()


if __name__ == "__main__":
    main()

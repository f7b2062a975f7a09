"""What RLlib costs: env steps/s of RLlib sampling on gym_mame with 1 and 2 env runners,
against the native vector env alone and raw MAME (-str), measured in the same run.

    .venv/bin/python scripts/rllib_bench.py --game a2600-boxing --envs 4 --steps 1000 --repeats 3

Every row runs the same number of sub-envs in all (``--envs``: one runner holds them all,
two runners half each), RAM observations, frameskip 4, and emulates the same number of
frames per round. The rows:

- raw MAME x N: N MAMEs with no Lua run together (``-str``), the reference;
- native vector env: one :class:`gym_mame.MameVectorEnv` stepped with random actions;
- RLlib sampling: ``EnvRunner.sample()`` of PPO's env runners (RLlib's new API stack: the
  policy network picks the actions, episodes are recorded), all runners at once.

Rounds alternate the rows; figures are medians over rounds, ratios the medians of the
per-round ratios against that round's raw MAMEs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import gym_mame
from gym_mame.tools.bench import BenchGame
from gym_mame.tools.vector_bench import RawTogether


def native_steps_per_s(game: str, n: int, steps: int, options: dict) -> Callable[[int], float]:
    """A started native vector env; the returned function measures ``steps`` per sub-env."""
    envs = gym_mame.MameVectorEnv(game, n, **options)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)

    def measure(round_: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            envs.step(rng.integers(0, envs.single_action_space.n, n))
        return steps * n / (time.perf_counter() - start)

    measure.close = envs.close  # type: ignore[attr-defined]
    return measure


def rllib_algo(game: str, runners: int, n: int, steps: int, options: dict):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    import gym_mame.rllib

    register_env("mame", gym_mame.rllib.vector_env)
    batch = steps * n  # one training iteration samples as many steps as a round
    config = (PPOConfig()
              .environment("mame", env_config={"game": game, **options})
              .env_runners(num_env_runners=runners, num_envs_per_env_runner=n // runners,
                           gym_env_vectorize_mode="vector_entry_point",
                           rollout_fragment_length=batch // n)
              .training(train_batch_size_per_learner=batch, minibatch_size=min(batch, 512),
                        num_epochs=2))
    return config.build_algo()


def sampling(algo, total: int, runners: int) -> Callable[[int], float]:
    def measure(round_: int) -> float:
        start = time.perf_counter()
        algo.env_runner_group.foreach_env_runner(
            lambda r: len(r.sample(num_timesteps=total // runners)), local_env_runner=False)
        return total / (time.perf_counter() - start)

    return measure


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--game", default="a2600-boxing", help="integration")
    p.add_argument("--envs", type=int, default=4, help="sub-envs in all (even)")
    p.add_argument("--steps", type=int, default=1000, help="steps per sub-env per round")
    p.add_argument("--repeats", type=int, default=3, help="rounds")
    args = p.parse_args()
    frameskip, n = 4, args.envs
    options = {"obs_type": "ram", "frameskip": frameskip}

    import ray

    ray.init(num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False,
             log_to_driver=False)
    env = gym.make(f"Mame/{args.game}-v0", frameskip=frameskip, obs_type="rgb")
    try:
        base = env.unwrapped
        bench = BenchGame(args.game, base.game, dict(base.bridge.media),
                          base.metadata["render_fps"] * frameskip, frameskip, args.steps, env)
    finally:
        env.close()
    raw = RawTogether(bench, n)
    native = native_steps_per_s(args.game, n, args.steps, options)
    algos = {r: rllib_algo(args.game, r, n, args.steps, options) for r in (1, 2)}
    rows: dict[str, Callable[[int], float]] = {"native vector env": native}
    for r, algo in algos.items():
        rows[f"RLlib sampling, {r} runner{'s' * (r > 1)}"] = sampling(algo, args.steps * n, r)
    raw_steps: list[float] = []
    results: dict[str, list[float]] = {name: [] for name in rows}
    try:
        for round_ in range(args.repeats):
            raw_steps.append(raw.measure(round_).frames_per_s / frameskip)
            order = list(rows.items())
            for name, measure in order if round_ % 2 == 0 else reversed(order):
                results[name].append(measure(round_))
    finally:
        native.close()  # type: ignore[attr-defined]
        for algo in algos.values():
            algo.stop()
        ray.shutdown()
    med = statistics.median
    print(f"{args.game}: {n} sub-envs in all, RAM, frameskip {frameskip}, {args.steps} steps "
          f"per sub-env a round, {args.repeats} rounds, {os.cpu_count()} cores")
    print(f"  {'raw MAME x' + str(n):<26} {med(raw_steps):8.0f} steps/s (frames/s / {frameskip})")
    for name, values in results.items():
        ratio = med(v / r for v, r in zip(values, raw_steps, strict=True))
        print(f"  {name:<26} {med(values):8.0f} steps/s  = {ratio:.0%} of raw MAME "
              f"(rounds {min(values):.0f}-{max(values):.0f})")


if __name__ == "__main__":
    main()

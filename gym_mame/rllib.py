"""Ray RLlib on gym_mame: env creators for RLlib's env runners (``pip install "gym_mame[ray]"``).

Single-agent, each env runner stepping its sub-envs through one native vector env
(:class:`gym_mame.MameVectorEnv`, one thread for all of its MAMEs)::

    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    import gym_mame.rllib

    register_env("mame", gym_mame.rllib.vector_env)
    config = (PPOConfig()
              .environment("mame", env_config={"game": "a2600-boxing", "obs_type": "ram"})
              .env_runners(num_env_runners=2, num_envs_per_env_runner=4,
                           gym_env_vectorize_mode="vector_entry_point"))
    algo = config.build_algo()
    algo.train()

Multi-agent, every player of a game an agent (self-play with one shared policy, or a
policy per player)::

    register_env("boxing2", gym_mame.rllib.multi_agent_env)
    config = (PPOConfig()
              .environment("boxing2", env_config={"game": "a2600-boxing", "obs_type": "ram"})
              .multi_agent(policies={"shared"},
                           policy_mapping_fn=lambda agent_id, episode, **kw: "shared"))

Observations reach RLlib as float32 (RLlib's default networks take floats; a frame or
RAM is uint8). Every other ``env_config`` key is a :class:`gym_mame.MameEnv` option.
Each MAME is a child of the env runner that made it: it stops when that runner stops,
and when a runner is killed outright (Ray's ``SIGKILL``), the MAMEs notice their parent
is gone (end of their request pipe, or a check every 64 frames) and exit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers.vector import DtypeObservation

from gym_mame.envs.vector_env import MameVectorEnv

# env_config keys RLlib adds that are not env options
_RLLIB_KEYS = ("num_envs", "worker_index", "vector_index", "remote", "num_workers")
def _options(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    options = {k: v for k, v in dict(config).items() if k not in _RLLIB_KEYS}
    game = options.pop("game", None)
    if game is None:
        raise ValueError('env_config needs "game", e.g. {"game": "a2600-boxing"}')
    return game, options


def vector_env(config: Mapping[str, Any]) -> gym.vector.VectorEnv:
    """A native vector env of ``config["num_envs"]`` (RLlib's ``num_envs_per_env_runner``)
    sub-envs of ``config["game"]``, observations as float32."""
    game, options = _options(config)
    return DtypeObservation(MameVectorEnv(game, int(config.get("num_envs", 1)), **options),
                            np.float32)


def multi_agent_env(config: Mapping[str, Any]) -> Any:
    """Every player of ``config["game"]`` (``num_players``, default 2) as an RLlib
    multi-agent env, through RLlib's PettingZoo wrapper; observations as float32."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from supersuit import dtype_v0

    from gym_mame.envs.pettingzoo_env import parallel_env

    game, options = _options(config)
    players = int(options.pop("num_players", 2))
    return ParallelPettingZooEnv(dtype_v0(parallel_env(game, players, **options), np.float32))

"""gym_mame: arcade games in MAME as Gymnasium environments.

Importing the package registers ``Mame/<game>-v0`` (and ``Mame/<game>NoFrameskip-v0``)
for every integration folder found (see :mod:`gym_mame.integration`)::

    import gymnasium as gym
    import gym_mame  # noqa: F401

    env = gym.make("Mame/pong-v0", render_mode="rgb_array")
    envs = gym.make_vec("Mame/a2600-breakout-v0", num_envs=8)   # a MameVectorEnv

:class:`Emulator` scripts MAME directly: a machine with named inputs and variables.
"""

from __future__ import annotations

from gym_mame.envs.env import MameEnv
from gym_mame.envs.registration import register_envs
from gym_mame.envs.vector_env import MameVectorEnv
from gym_mame.errors import (
    BridgeError,
    GymMameError,
    IntegrationError,
    MameCrashedError,
    MameNotFoundError,
    MameTimeoutError,
    MissingExtraError,
    RomNotFoundError,
    SaveStateError,
    UnknownMachineError,
    UnknownNameError,
)
from gym_mame.integration import list_options, list_scenarios, list_states
from gym_mame.runtime.emulator import Emulator, EmulatorStep, State

__version__ = "0.1.0"


def parallel_env(game: str, num_players: int = 2, **kwargs: object) -> object:
    """Every player of ``game`` an agent, as a PettingZoo ``ParallelEnv`` (needs
    pettingzoo); see :class:`gym_mame.envs.pettingzoo_env.MameParallelEnv`."""
    from gym_mame.envs.pettingzoo_env import parallel_env as make

    return make(game, num_players, **kwargs)


def aec_env(game: str, num_players: int = 2, **kwargs: object) -> object:
    """The same game in PettingZoo's AEC form (through PettingZoo's own conversion)."""
    from gym_mame.envs.pettingzoo_env import aec_env as make

    return make(game, num_players, **kwargs)


__all__ = [
    "BridgeError",
    "Emulator",
    "EmulatorStep",
    "GymMameError",
    "IntegrationError",
    "MameCrashedError",
    "MameEnv",
    "MameNotFoundError",
    "MameTimeoutError",
    "MameVectorEnv",
    "MissingExtraError",
    "RomNotFoundError",
    "SaveStateError",
    "State",
    "UnknownMachineError",
    "UnknownNameError",
    "aec_env",
    "list_options",
    "list_scenarios",
    "list_states",
    "parallel_env",
    "register_envs",
]

register_envs()

"""gym_mame: arcade games in MAME as Gymnasium environments.

Importing the package registers ``Mame/<game>-v0`` for every integration
folder found (see :mod:`gym_mame.integration`)::

    import gymnasium as gym
    import gym_mame  # noqa: F401

    env = gym.make("Mame/pong-v0", render_mode="rgb_array")
"""

from __future__ import annotations

from gym_mame.env import MameEnv
from gym_mame.errors import (
    BridgeError,
    GymMameError,
    IntegrationError,
    MameCrashedError,
    MameNotFoundError,
    MameTimeoutError,
    MissingExtraError,
    RomNotFoundError,
    UnknownNameError,
)
from gym_mame.registration import register_envs

__version__ = "0.1.0"
__all__ = [
    "BridgeError",
    "GymMameError",
    "IntegrationError",
    "MameCrashedError",
    "MameEnv",
    "MameNotFoundError",
    "MameTimeoutError",
    "MissingExtraError",
    "RomNotFoundError",
    "UnknownNameError",
    "register_envs",
]

register_envs()

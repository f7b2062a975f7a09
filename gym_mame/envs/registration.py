"""Registering the Gymnasium ids of every integration folder.

Each game gets ``Mame/<name>-v0``, with the game's own defaults (ALE v5's for the
Atari 2600 games: frameskip 4, sticky actions 0.25, 108,000 frames an episode), and
``Mame/<name>NoFrameskip-v0``: one frame a step and no sticky actions, for the recipes
that skip frames themselves (Stable-Baselines3's ``make_atari_env``, Gymnasium's
``AtariPreprocessing``), as ALE's ``...NoFrameskip-v4`` ids are. ``gymnasium.make_vec``
on either gives the native :class:`gym_mame.MameVectorEnv`.
"""

from __future__ import annotations

import gymnasium as gym

from gym_mame.envs.env import no_frameskip_id
from gym_mame.integration import find_folders

NO_FRAMESKIP = {"frameskip": 1, "repeat_action_probability": 0.0}


def register_envs() -> list[str]:
    """Register both ids for every integration folder; return the ``-v0`` ids.

    Only folder names are read here; each folder is validated when an env is made.
    Call again after adding folders to ``$GYM_MAME_INTEGRATIONS`` at run time."""
    ids = []
    for name in find_folders():
        for env_id, extra in ((f"Mame/{name}-v0", {}), (no_frameskip_id(name), NO_FRAMESKIP)):
            if env_id not in gym.registry:
                gym.register(id=env_id, entry_point="gym_mame.envs.env:MameEnv",
                             vector_entry_point="gym_mame.envs.vector_env:MameVectorEnv",
                             kwargs={"game": name, **extra})
        ids.append(f"Mame/{name}-v0")
    return ids

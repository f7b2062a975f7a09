"""Registering one Gymnasium id per integration folder."""

from __future__ import annotations

import gymnasium as gym

from gym_mame.integration import find_folders


def register_envs() -> list[str]:
    """Register ``Mame/<name>-v0`` for every integration folder; return the ids.

    Only folder names are read here; each folder is validated when an env is made.
    Call again after adding folders to ``$GYM_MAME_INTEGRATIONS`` at run time."""
    ids = []
    for name in find_folders():
        env_id = f"Mame/{name}-v0"
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="gym_mame.env:MameEnv",
                         kwargs={"game": name})
        ids.append(env_id)
    return ids

"""Stable-Baselines3 on the native vector env: :class:`MameVecEnv`, an SB3 ``VecEnv``.

SB3 takes its own ``VecEnv`` type, not Gymnasium's vector envs, so this adapter
presents a :class:`gym_mame.MameVectorEnv` as one: ``step_async`` sends every
sub-env its action (the MAMEs run at once), ``step_wait`` takes the replies.
SB3's conventions: a finished sub-env is reset in the same step, its last
observation in ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]``
set when the episode was cut rather than ended::

    from stable_baselines3 import PPO
    from gym_mame.sb3 import MameVecEnv

    env = MameVecEnv("a2600-breakout", n_envs=8, obs_type="ram")
    PPO("MlpPolicy", env).learn(100_000)

Needs ``pip install stable-baselines3`` (not a dependency of gym_mame).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from gym_mame.envs.vector_env import MameVectorEnv
from gym_mame.errors import MissingExtraError

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
except ImportError as exc:  # pragma: no cover - exercised only without SB3
    raise MissingExtraError("gym_mame.sb3 needs Stable-Baselines3: pip install "
                            "stable-baselines3") from exc


class MameVecEnv(VecEnv):
    """``n_envs`` MAMEs of one game as an SB3 ``VecEnv``; ``**kwargs`` are
    :class:`gym_mame.MameEnv` options (obs_type, frameskip, ...)."""

    def __init__(self, game: str, n_envs: int = 1, **kwargs: Any) -> None:
        self.venv = MameVectorEnv(game, n_envs, autoreset_mode=AutoresetMode.SAME_STEP,
                                  **kwargs)
        super().__init__(n_envs, self.venv.single_observation_space,
                         self.venv.single_action_space)

    # -- stepping --------------------------------------------------------------------
    def reset(self) -> Any:
        seeds = self._seeds if any(s is not None for s in self._seeds) else None
        obs, infos = self.venv.reset(seed=seeds)
        self._reset_seeds()
        self.reset_infos = self._split(infos)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.send(actions)

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, rewards, terminations, truncations, infos = self.venv.recv()
        dones = terminations | truncations
        per_env = self._split(infos)
        finals = infos.get("final_obs")
        final_infos = infos.get("final_info", {})
        for i in np.flatnonzero(dones):
            per_env[i] = {**self._split_one(final_infos, int(i)),
                          "terminal_observation": finals[i],
                          "TimeLimit.truncated": bool(truncations[i] and not terminations[i])}
        return obs, rewards.astype(np.float32), dones, per_env

    def _split(self, infos: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._split_one(infos, i) for i in range(self.num_envs)]

    @staticmethod
    def _split_one(infos: dict[str, Any], i: int) -> dict[str, Any]:
        """Sub-env ``i``'s entries of a Gymnasium vector info (dict of arrays + masks)."""
        out = {}
        for key, value in infos.items():
            if key.startswith("_") or key in ("final_obs", "final_info", "env_id"):
                continue
            mask = infos.get(f"_{key}")
            if mask is not None and mask[i]:
                out[key] = value[i].item() if isinstance(value[i], np.generic) else value[i]
        return out

    # -- the rest of SB3's VecEnv interface -----------------------------------------------
    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [env.render() for env in self.venv.envs]

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.venv.envs[i], attr_name) for i in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        for i in self._indices(indices):
            setattr(self.venv.envs[i], attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None,
                   **method_kwargs: Any) -> list[Any]:
        return [getattr(self.venv.envs[i], method_name)(*method_args, **method_kwargs)
                for i in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False for _ in self._indices(indices)]  # sub-envs are bare MameEnvs

    def _indices(self, indices: Any) -> Iterable[int]:
        return self._get_indices(indices)

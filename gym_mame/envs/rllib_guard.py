"""What an env says when RLlib makes it from its bare id: RLlib's default networks take
float32, and every observation type here is uint8 (as ALE's). The envs check it as they are
made; :mod:`gym_mame.rllib`'s creators are the way that works."""

from __future__ import annotations

import sys

from gym_mame.errors import GymMameError

# the id RLlib's env runner registers a creator under (register_env, or a callable env)
_CREATOR_ID = "rllib-single-agent-env-v0"


def refuse_rllib_id_route(game: str, obs_type: str) -> None:
    """Raise if RLlib's env runner is making this env from its bare id (``.environment(
    "gym_mame:Mame/<game>-v0")``): RLlib's default networks take float32 and every
    observation type here is uint8 (as ALE's), which fails later inside the runner
    (``mat1 and mat2 must have the same dtype``) far from its cause. A creator of the
    user's (``register_env``) is not refused: it may wrap the env as it needs."""
    frame = sys._getframe(1)
    while frame is not None:
        if (frame.f_code.co_name == "make_env"
                and frame.f_globals.get("__name__", "").startswith("ray.rllib.env.")
                and frame.f_locals.get("env_name", _CREATOR_ID) != _CREATOR_ID):
            raise GymMameError(
                f"RLlib is making {frame.f_locals['env_name']} from its id, and its default "
                f"networks take float32 observations while {game}'s are uint8 "
                f"(obs_type={obs_type!r}); it would fail inside the env runner. Register "
                "gym_mame.rllib's creator, which hands RLlib float32 (register_env(\"mame\", "
                "gym_mame.rllib.vector_env), then .environment(\"mame\", env_config="
                f"{{\"game\": \"{game}\", \"obs_type\": \"{obs_type}\"}})), or a creator of "
                "your own that wraps the env (RLlib's wrap_atari_for_new_api_stack, "
                "gymnasium.wrappers.DtypeObservation)")
        frame = frame.f_back

"""Agreement with stable-retro, measured (the method of :mod:`gym_mame.agreement`).

The plan of :mod:`gym_mame.agreement.plan` plays a game in stable-retro (Genesis Plus GX)
and in gym_mame (MAME): gym-retro's Discrete action set in both (same index, same buttons),
the same frames per step (a stable-retro step is one frame, so its actions are repeated
``frameskip`` times here), no sticky actions, episodes cut at the same step cap and opened
by 0 to ``noop_max`` NOOP steps. Per game: mean and standard error of return and length,
and whether they agree within ``TOLERANCE`` combined standard errors.

    gym-mame agreement --retro                    # every integration with a retro game
    gym-mame agreement --retro genesis-airstriker --episodes 30 --markdown table.md
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from gym_mame.agreement.plan import NOOP_MAX
from gym_mame.agreement.reference import Incomparable, Pair, SingleAgent, summary
from gym_mame.agreement.stats import TOLERANCE, Row, mean_se_text

# gym_mame integration -> (stable-retro game, its start state)
RETRO_GAMES = {"genesis-airstriker": ("Airstriker-Genesis-v0", "Level1")}


class RepeatAction(gym.Wrapper):  # type: ignore[type-arg]
    """``frameskip`` frames per step, rewards summed, stopping at the end of the episode:
    what gym_mame's ``frameskip`` does, for stable-retro, whose step is one frame."""

    def __init__(self, env: gym.Env, frameskip: int) -> None:  # type: ignore[type-arg]
        super().__init__(env)
        self.frameskip = frameskip

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        total = 0.0
        for _ in range(self.frameskip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


def retro_env(game: str, frameskip: int, obs: str = "ram") -> gym.Env:  # type: ignore[type-arg]
    """stable-retro's env of ``game`` (a gym_mame integration name) with gym-retro's
    Discrete actions and ``frameskip`` frames a step."""
    import stable_retro as retro

    name, state = RETRO_GAMES[game]
    obs_type = retro.Observations.RAM if obs == "ram" else retro.Observations.IMAGE
    env = retro.make(name, state=state, use_restricted_actions=retro.Actions.DISCRETE,
                     obs_type=obs_type, render_mode=None)
    return RepeatAction(env, frameskip)


def same_actions(game: str) -> str:
    """"" when gym_mame's discrete actions press exactly stable-retro's buttons for every
    index, else what differs."""
    from gym_mame.integration import load
    from gym_mame.runtime.actions import ActionMapper

    env = retro_env(game, 1)
    try:
        inner = env.unwrapped
        mapper = ActionMapper(load(game), "discrete")
        if inner.action_space.n != mapper.space.n:
            return f"stable-retro has {inner.action_space.n} actions, gym_mame {mapper.space.n}"
        for index in range(inner.action_space.n):
            bits = inner.action_to_array(index)[0]
            theirs = {b for b, bit in zip(inner.buttons, bits, strict=True) if bit}
            ours = set(mapper.held(index))
            if theirs != ours:
                return f"action {index}: stable-retro {sorted(theirs)}, gym_mame {sorted(ours)}"
        return ""
    finally:
        env.close()


class StableRetro(SingleAgent):
    """stable-retro's env (gym-retro's Discrete actions, ``frameskip`` frames a step)
    against MameEnv, on gym_mame's integration names (``"genesis-airstriker"``)."""

    label = "stable-retro"
    kind = "integration with a stable-retro game"
    hint = "--retro takes gym_mame integration names"

    def __init__(self, frameskip: int = 4, noop_max: int = NOOP_MAX) -> None:
        self.frameskip, self.noop_max = frameskip, noop_max

    def games(self) -> list[str]:
        return list(RETRO_GAMES)

    def open(self, game: str) -> Pair:
        from gym_mame.envs.env import MameEnv
        from gym_mame.errors import GymMameError

        problem = same_actions(game)  # before either env: stable-retro allows one at a time
        if problem:
            raise Incomparable(f"action sets differ: {problem}")
        try:
            mame = MameEnv(game, frameskip=self.frameskip, repeat_action_probability=0.0,
                           obs_type="ram", max_num_frames_per_episode=None)
        except GymMameError as exc:
            raise Incomparable(f"gym_mame: {exc}") from exc
        return Pair.beside(mame, lambda: retro_env(game, self.frameskip))

    def markdown(self, rows: Sequence[Row], episodes: int, max_steps: int, seed: int) -> str:
        frameskip = self.frameskip
        lines = [
            f"{episodes} episodes per game, seeded random policy over gym-retro's Discrete "
            f"actions (seeds {seed}..{seed + episodes - 1}), {frameskip} frames a step, no "
            f"sticky actions, 0-{self.noop_max} no-op steps first, at most {max_steps} steps "
            f"({frameskip * max_steps} frames).",
            f"Mean ± standard error. Agree: difference within {TOLERANCE:g} combined standard "
            "errors.",
            "",
            "| game | stable-retro return | gym_mame return | stable-retro length | "
            "gym_mame length | agree | cut at the cap (retro / gym_mame) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            if r.problem:
                lines.append(f"| {r.game} | | | | | **no**: {r.problem[:120]} | |")
                continue
            lines.append(
                f"| {r.game} | {mean_se_text(r.reference.returns)} | "
                f"{mean_se_text(r.mame.returns)} | {mean_se_text(r.reference.lengths)} | "
                f"{mean_se_text(r.mame.lengths)} | {r.verdict} | "
                f"{r.reference.truncated} / {r.mame.truncated} |")
        lines += ["", summary(rows)]
        return "\n".join(lines)


def speed(game: str, steps: int = 2000, seed: int = 0) -> dict[str, float]:
    """Random steps per second of one frame each with RGB frames: stable-retro, gym_mame,
    and raw MAME (``-str``, no Lua) over about as many frames."""
    from gym_mame.envs.env import MameEnv
    from gym_mame.tools import bench

    out: dict[str, float] = {}
    envs: list[tuple[str, Callable[[], gym.Env]]] = [  # type: ignore[type-arg]
        ("stable-retro", lambda: retro_env(game, 1, obs="rgb")),
        ("gym_mame", lambda: MameEnv(game, frameskip=1, obs_type="rgb",
                                     max_num_frames_per_episode=None)),
    ]
    for label, make in envs:
        env = make()
        try:
            rng = np.random.default_rng(seed)
            env.reset(seed=seed)
            started = time.perf_counter()
            for _ in range(steps):
                _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
                if terminated or truncated:
                    env.reset()
            out[label] = steps / (time.perf_counter() - started)
            if label == "gym_mame":
                media = dict(env.unwrapped.emulator.media)
                refresh = env.unwrapped.emulator.refresh_rate
        finally:
            env.close()
    seconds = max(bench.RAW_MIN_SECONDS, int(np.ceil(steps / refresh)))
    from gym_mame.integration import load

    out["raw MAME"] = bench.raw_fps(load(game).machine, media, refresh, seconds)
    return out

"""PettingZoo environments: every player of a multi-player game an agent.

    import gym_mame
    env = gym_mame.parallel_env("a2600-boxing", num_players=2)
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

:func:`aec_env` is the same game in PettingZoo's turn-by-turn (AEC) form, through
PettingZoo's own conversion. Agents are named as PettingZoo's Atari environments
name them (``first_0``, ``second_0``, ...); every agent sees the same frame (or
RAM). The defaults are PettingZoo's Atari ones: one frame per step, no sticky
actions, ``max_cycles=100000``; every :class:`gym_mame.MameEnv` option works.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from gym_mame import integration as integrations
from gym_mame.emulator import LOAD_SETTLE_FRAMES, Emulator
from gym_mame.env import MAX_FRAMESKIP
from gym_mame.match import AGENT_NAMES, Match
from gym_mame.observations import OBS_TYPES, Observer

# PettingZoo's Atari names for the observation types, accepted as well.
_PETTINGZOO_OBS = {"rgb_image": "rgb", "grayscale_image": "grayscale"}


class MameParallelEnv(ParallelEnv):
    """``num_players`` players of ``game`` as a PettingZoo ``ParallelEnv``.

    Args:
        game: integration name or folder of a game with more than one player.
        num_players: how many play (the integration's game mode for that many).
        obs_type: ``"rgb"``, ``"grayscale"`` or ``"ram"`` (also PettingZoo's
            ``"rgb_image"`` / ``"grayscale_image"``); every agent sees the same.
        frameskip: emulated frames per step (default 1, as PettingZoo's Atari envs).
        repeat_action_probability: sticky actions, drawn for each player on its own.
        max_cycles: truncate every agent after this many steps.
        noop_max: seeded no-op steps (all players NOOP) at each reset.
        full_action_space, action_type, obs_size, render_mode, rom_path, mame_path,
        transport, timeout, scenario, **game_options: as for :class:`gym_mame.MameEnv`
        (several players start from their game mode's boot, so there is no ``state=``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "name": "mame",
                                          "is_parallelizable": True, "render_fps": 60}

    def __init__(self, game: str = "a2600-boxing", num_players: int = 2, obs_type: str = "rgb",
                 frameskip: int = 1, repeat_action_probability: float = 0.0,
                 max_cycles: int = 100_000, noop_max: int = 0, full_action_space: bool = False,
                 action_type: str = "discrete", obs_size: tuple[int, int] | None = None,
                 render_mode: str | None = None,
                 rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
                 mame_path: str | os.PathLike[str] | None = None, transport: str = "ipc",
                 timeout: float = 30.0, scenario: str | os.PathLike[str] | None = None,
                 **game_options: Any) -> None:
        obs_type = _PETTINGZOO_OBS.get(obs_type, obs_type)
        if obs_type not in OBS_TYPES[:3]:
            raise ValueError(f"obs_type must be 'rgb', 'grayscale' or 'ram', not {obs_type!r}")
        if not isinstance(frameskip, int) or not 1 <= frameskip <= MAX_FRAMESKIP:
            raise ValueError(f"frameskip must be an integer from 1 to {MAX_FRAMESKIP}")
        if not 0.0 <= repeat_action_probability <= 1.0:
            raise ValueError("repeat_action_probability must be in [0, 1]")
        if not isinstance(max_cycles, int) or max_cycles < 1:
            raise ValueError(f"max_cycles must be a positive integer, not {max_cycles!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', not {render_mode!r}")
        self.match = Match(integrations.load(game, scenario), num_players, action_type,
                           full_action_space)
        self.game = self.match.game_for_play(None, game_options)
        self.frameskip, self.max_cycles, self.noop_max = frameskip, max_cycles, noop_max
        self.repeat_action_probability = repeat_action_probability
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": f"{self.game.name}_{num_players}p"}
        self.possible_agents = list(AGENT_NAMES[:num_players])
        self.agents: list[str] = []
        self.emulator = Emulator(self.game, rom_path=rom_path, mame_path=mame_path,
                                 transport=transport, timeout=timeout)
        try:
            size = tuple(obs_size) if obs_size is not None else self.game.obs_size
            self.observer = Observer(self.emulator, obs_type, size, render_mode is not None)
            if self.game.scenario.every_frame:
                self.emulator.bridge.check_every_frame(frameskip)
            self.emulator.prepare_start()
            space = self.observer.make_space(self.emulator.reset(frames=1))
        except BaseException:
            self.emulator.close()
            raise
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.action_spaces = {a: m.space for a, m in zip(self.possible_agents,
                                                         self.match.mappers, strict=True)}
        self.metadata["render_fps"] = self.emulator.refresh_rate / frameskip
        self.np_random, _ = seeding.np_random(None)
        self._held: list[tuple[str, ...]] = [()] * num_players
        self._values: dict[str, float] = {}
        self._cycles = 0

    @functools.cache  # noqa: B019 - PettingZoo's own idiom; one per agent
    def observation_space(self, agent: str) -> gymnasium.Space[Any]:
        return self.observation_spaces[agent]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gymnasium.Space[Any]:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
            for i, agent in enumerate(self.possible_agents):
                self.action_space(agent).seed(seed + i)
        noops = int(self.np_random.integers(0, self.noop_max + 1)) if self.noop_max else 0
        step = self.emulator.reset(LOAD_SETTLE_FRAMES + noops * self.frameskip,
                                   pixels=self.observer.wants_pixels)
        self.agents = self.possible_agents[:]
        self._held = [()] * len(self.possible_agents)
        self._values = self.match.start(step.values)
        self._cycles = 0
        obs = self.observer.observe(step, step.ram, self._values)
        return dict.fromkeys(self.agents, obs), self._infos(self.agents)

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float],
                                                     dict[str, bool], dict[str, bool],
                                                     dict[str, Any]]:
        if not self.agents:
            raise RuntimeError("every agent is done: call reset()")
        held = []
        for i, agent in enumerate(self.possible_agents):
            action = actions.get(agent) if agent in self.agents else None
            held.append(self.match.held(i, action) if action is not None else ())
        segments, self._held = self.match.segments(
            self.emulator, self._held, held, self.frameskip, self.repeat_action_probability,
            self.np_random)
        step = self.emulator.run(segments, pixels=self.observer.wants_pixels,
                                 every_frame=self.game.scenario.every_frame)
        outcome = self.match.evaluate(step.frames, self._values)
        self._values = outcome.values
        self._cycles += 1
        obs = self.observer.observe(step, step.ram_frames[outcome.frame], self._values)
        acting = self.agents
        index = {a: i for i, a in enumerate(self.possible_agents)}
        rewards = {a: float(outcome.rewards[index[a]]) for a in acting}
        terminations = {a: bool(outcome.out[index[a]]) for a in acting}
        truncations = dict.fromkeys(acting, self._cycles >= self.max_cycles)
        infos = self._infos(acting)
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return dict.fromkeys(acting, obs), rewards, terminations, truncations, infos

    def _infos(self, agents: Sequence[str]) -> dict[str, Any]:
        lives = self.match.player_lives(self._values)
        infos = {}
        for i, agent in enumerate(self.possible_agents):
            if agent in agents:
                infos[agent] = {"lives": lives[i]} if lives[i] is not None else {}
        return infos

    def state(self) -> np.ndarray:
        """The machine's RAM regions (the integration's), for centralised critics."""
        step = self.observer.step
        return np.frombuffer(step.ram, np.uint8).copy() if step is not None else np.zeros(0)

    def render(self) -> np.ndarray | None:
        return self.observer.rendered if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        emulator = getattr(self, "emulator", None)
        if emulator is not None:
            emulator.close()


def parallel_env(game: str, num_players: int = 2, **kwargs: Any) -> MameParallelEnv:
    """``num_players`` players of ``game`` as a PettingZoo ``ParallelEnv``."""
    return MameParallelEnv(game, num_players, **kwargs)


def aec_env(game: str, num_players: int = 2, **kwargs: Any) -> Any:
    """The same game in PettingZoo's AEC (one agent at a time) form."""
    return parallel_to_aec(MameParallelEnv(game, num_players, **kwargs))

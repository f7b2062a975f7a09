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
RAM), and the same info: the game's variables and frame number, with ``lives`` the
agent's own. The defaults are PettingZoo's Atari ones: one frame per step, no sticky
actions, ``max_cycles=100000``; every :class:`gym_mame.MameEnv` option works (both
stand on the same play core, :mod:`gym_mame.runtime.play`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from gym_mame.envs.env import construction, rebuilt
from gym_mame.runtime.match import AGENT_NAMES
from gym_mame.runtime.play import (
    ActionType,
    Play,
    PlayOptions,
    RenderMode,
    Transport,
    check,
    core_attribute,
)

# PettingZoo's Atari names for the observation types, accepted as well.
_PETTINGZOO_OBS = {"rgb_image": "rgb", "grayscale_image": "grayscale"}
MAX_CYCLES = 100_000  # PettingZoo's Atari default


class MameParallelEnv(ParallelEnv):
    """``num_players`` players of ``game`` as a PettingZoo ``ParallelEnv``.

    Args:
        game: integration name or folder of a game with more than one player.
        num_players: how many play (the integration's game mode for that many).
        obs_type: ``"rgb"``, ``"grayscale"``, ``"ram"`` or ``"dict"`` (also PettingZoo's
            ``"rgb_image"`` / ``"grayscale_image"``); every agent sees the same.
        frameskip: emulated frames per step (default 1, as PettingZoo's Atari envs).
        repeat_action_probability: sticky actions, drawn for each player on its own.
        max_cycles: truncate every agent after this many steps; ``max_episode_steps`` is
            the same limit by MameEnv's name (give one of the two). Default: 100,000,
            unless ``max_num_frames_per_episode`` is given (then that limit holds alone).
        max_num_frames_per_episode: truncate once the steps have run this many frames,
            where no step limit is given (default None: no frame limit).
        noop_max: seeded no-op steps (all players NOOP) at each reset.
        opponents: for players 2, 3, ...: a policy each (observation -> action), which
            then plays that player (it is no agent), or None: that player is an agent.
        full_action_space, action_type, obs_size, render_mode, rom_path, mame_path,
        transport, timeout, rebuild_start_state, state, scenario, action_set,
        **game_options: as for :class:`gym_mame.MameEnv` (a count of players with its own
        game mode starts from that mode's boot, so ``state=`` is for one player).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"],
                                          "name": "mame", "is_parallelizable": True,
                                          "render_fps": 60}

    def __init__(self, game: str = "a2600-boxing", num_players: int = 2,
                 obs_type: str = "rgb", frameskip: int = 1,
                 repeat_action_probability: float = 0.0, max_cycles: int | None = None,
                 noop_max: int = 0, full_action_space: bool = False,
                 action_type: ActionType = "discrete", obs_size: tuple[int, int] | None = None,
                 render_mode: RenderMode | None = None,
                 rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
                 mame_path: str | os.PathLike[str] | None = None, transport: Transport = "ipc",
                 timeout: float = 30.0, scenario: str | os.PathLike[str] | None = None,
                 max_episode_steps: int | None = None,
                 max_num_frames_per_episode: int | Literal["default"] | None = None,
                 rebuild_start_state: bool = False, state: str | Sequence[str] | None = None,
                 action_set: str | None = None,
                 opponents: Sequence[Callable[[Any], Any] | None] | None = None,
                 **game_options: Any) -> None:
        self._construction = construction(locals())
        kwargs = {k: v for k, v in self._construction.items() if k not in ("game", "max_cycles")}
        kwargs["obs_type"] = _PETTINGZOO_OBS.get(obs_type, obs_type)
        if max_cycles is not None and max_episode_steps is not None:
            raise ValueError("max_cycles and max_episode_steps are the same step limit: "
                             "give one of them")
        if max_cycles is not None:
            check("max_episode_steps", max_cycles, "max_cycles")
            kwargs["max_episode_steps"] = max_cycles
        elif max_episode_steps is None and max_num_frames_per_episode is None:
            kwargs["max_episode_steps"] = MAX_CYCLES
        self._play = Play(game, PlayOptions.from_kwargs(kwargs))
        play = self._play
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": f"{self.game.name}_{num_players}p",
                         "render_fps": play.refresh_rate / play.frameskip}
        # the players the front end acts for: all but those an opponent policy plays
        self._players = [i for i, policy in enumerate(play.policies) if policy is None]
        self.possible_agents = [AGENT_NAMES[i] for i in self._players]
        space = play.observation_space
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.action_spaces = {AGENT_NAMES[i]: play.mappers[i].space for i in self._players}
        self.np_random, _ = seeding.np_random(None)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its construction and its random generator: unpickling starts a fresh
        MAME, an env as made, to be reset (as SuperSuit's ``concat_vec_envs_v1`` needs)."""
        return (rebuilt, (type(self), self._construction, {"np_random": self.np_random}))

    # -- the play core's parts and settings, by the names this env has had ---------------
    game = core_attribute("game", settable=False)
    match = core_attribute("match", settable=False)
    emulator = core_attribute("emulator", "The MAME behind this env.", settable=False)
    observer = core_attribute("observer", settable=False)
    frameskip = core_attribute("frameskip", settable=False)
    repeat_action_probability = core_attribute("repeat_action_probability", settable=False)
    noop_max = core_attribute("noop_max", settable=False)
    # PettingZoo's name for the step limit (settable: PettingZoo's API test sets it)
    max_cycles = core_attribute("max_episode_steps")

    @property
    def agents(self) -> list[str]:  # type: ignore[override]
        """The agents still playing: none before a reset (or while one is cut short by
        Ctrl-C), then those neither out nor truncated. The play core keeps this, so an
        interrupted step cannot leave it half-updated."""
        if self._play.values is None:
            return []
        finished = self._play.finished
        return [a for a, i in zip(self.possible_agents, self._players, strict=True)
                if not finished[i]]

    @functools.cache  # noqa: B019 - PettingZoo's own idiom; one per agent
    def observation_space(self, agent: str) -> gymnasium.Space[Any]:
        return self.observation_spaces[agent]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gymnasium.Space[Any]:
        return self.action_spaces[agent]

    # -- PettingZoo's API ------------------------------------------------------------
    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
            for i, agent in enumerate(self.possible_agents):
                self.action_space(agent).seed(seed + i)
        self._play.send_reset(self.np_random)
        obs = self._play.receive_reset()
        return dict.fromkeys(self.agents, obs), self._infos(self.agents)

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float],
                                                     dict[str, bool], dict[str, bool],
                                                     dict[str, Any]]:
        acting = self.agents
        if self._play.values is not None and not self._play.interrupted and not acting:
            raise RuntimeError("every agent is done: call reset()")
        # every player's action: an agent's (none once it is done), else its policy plays
        moves: list[Any] = [None] * self._play.num_players
        for i, agent in zip(self._players, self.possible_agents, strict=True):
            if agent in acting:
                moves[i] = actions.get(agent)
        self._play.send_step(moves, self.np_random)
        played = self._play.receive_step()
        index = dict(zip(self.possible_agents, self._players, strict=True))
        rewards = {a: float(played.rewards[index[a]]) for a in acting}
        terminations = {a: bool(played.out[index[a]]) for a in acting}
        truncations = dict.fromkeys(acting, played.truncated)
        infos = self._infos(acting)
        return dict.fromkeys(acting, played.observation), rewards, terminations, \
            truncations, infos

    def _infos(self, agents: Sequence[str]) -> dict[str, Any]:
        """Each agent's info: the game's (every variable and the episode's frame number, as
        MameEnv's info), with ``lives`` that agent's own (none where its rules have none)."""
        lives = self._play.player_lives()
        game = self._play.info()
        game.pop("lives", None)
        infos = {}
        for i, agent in zip(self._players, self.possible_agents, strict=True):
            if agent in agents:
                infos[agent] = {**game, "lives": lives[i]} if lives[i] is not None else dict(game)
        return infos

    def state(self) -> np.ndarray:
        """The machine's RAM regions (the integration's), for centralised critics."""
        step = self._play.observer.step
        return np.frombuffer(step.ram, np.uint8).copy() if step is not None else np.zeros(0)

    def render(self) -> np.ndarray | None:
        return self._play.observer.rendered if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        play = getattr(self, "_play", None)
        if play is not None:
            play.close()


def parallel_env(game: str, num_players: int = 2, **kwargs: Any) -> MameParallelEnv:
    """``num_players`` players of ``game`` as a PettingZoo ``ParallelEnv``."""
    return MameParallelEnv(game, num_players, **kwargs)


def aec_env(game: str, num_players: int = 2, **kwargs: Any) -> Any:
    """The same game in PettingZoo's AEC (one agent at a time) form."""
    return parallel_to_aec(MameParallelEnv(game, num_players, **kwargs))

"""MameEnv: a game running in MAME as a Gymnasium environment (one agent, on the play
core, :mod:`gym_mame.runtime.play`)."""

from __future__ import annotations

import copy
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np

from gym_mame.errors import SaveStateError
from gym_mame.integration import Integration
from gym_mame.runtime.emulator import State
from gym_mame.runtime.observations import ObsType
from gym_mame.runtime.play import (
    ActionType,
    Play,
    PlayOptions,
    RenderMode,
    Transport,
    core_attribute,
)


class MameEnv(gym.Env[Any, Any]):
    """An arcade (or console) game in MAME, driven over ZeroMQ.

    Each environment starts its own headless MAME process running the
    ``lua/bridge.lua`` script and talks to it over a private socket. Games are
    defined by integration folders (see ``integrations/README.md``); make one
    with ``gymnasium.make("Mame/<game>-v0", **options)``.

    Args:
        game: integration name (e.g. ``"pong"``) or path to an integration folder.
        render_mode: ``"rgb_array"`` (``render()`` returns the last frame as a person
            should see it: the integration's ``display_aspect``) or
            ``"human"`` (MAME's own window at real-time speed; headless with a
            warning when there is no display).
        obs_type: ``"rgb"`` (H x W x 3 uint8), ``"grayscale"`` (H x W x 1),
            ``"ram"`` (the integration's RAM regions, uint8) or ``"dict"``
            (``"frame"`` plus every integration variable).
        frameskip: emulated frames per step, the action held throughout (default: the
            integration's, else 4).
        repeat_action_probability: sticky actions as in ALE v5: on each frame the
            previous action is kept with this probability (default: the integration's;
            0.25 for the Atari 2600 games, as ALE v5; else 0.0).
        max_num_frames_per_episode: truncate an episode once its steps have run this
            many frames (ALE's option, counted in frames so that it does not change
            with frameskip); None: no limit. Default: the integration's, else 108,000
            (30 minutes at 60 Hz, ALE v5's). A step limit (``max_episode_steps`` here,
            or Gymnasium's ``TimeLimit`` from ``gymnasium.make(..., max_episode_steps=N)``)
            replaces it.
        action_type: ``"discrete"`` (the integration's button combinations, NOOP
            first), ``"multi_discrete"`` (one choice per action group),
            ``"multi_binary"`` (one bit per button), ``"filtered"`` (one bit per
            button, each group's bits kept only when they form one of its combinations,
            as gym-retro's ``Actions.FILTERED``) or ``"continuous"`` (a Box: each
            dial's turn per frame, then one entry per other button, held at >= 0.5).
        full_action_space: use the integration's full action set (ALE's 18
            joystick actions on Atari 2600 games) instead of its minimal one.
        max_episode_steps: truncate episodes after this many steps (None: the frame
            limit above applies).
        noop_max: on reset, run a random number of NOOP steps in [0, noop_max],
            drawn from the env's seeded generator (default 0).
        rom_path: folder(s) holding ROM sets and cartridges; also
            ``$GYM_MAME_ROMPATH``.
        mame_path: MAME executable; also ``$GYM_MAME_BIN``; default ``mame`` on
            PATH, then ``/usr/games/mame``.
        obs_size: ``(height, width)`` to resize frames to; default from the
            integration (None keeps MAME's size after the integration's crop).
        transport: ``"ipc"`` (Unix-domain socket, default) or ``"tcp"`` (loopback).
        timeout: seconds MAME may take to answer before it is declared hung.
        rebuild_start_state: ignore the integration's shipped start state and
            replay its boot sequence (for integration authors).
        num_players: play a multi-player game with this many players (its game mode for
            that many); the agent is the first, the others press nothing unless ``opponents``
            says otherwise (default 1).
        opponents: for players 2, 3, ...: a policy each (a callable from the observation
            the agent sees to that player's action), or None for no buttons. A frozen copy of
            the agent's own policy here makes self-play a one-liner.
        state: the named start state to play from (``gym_mame.list_states(game)``; as
            ``retro.make(state=...)``), or a list of names: each episode then starts from
            one of them drawn from the env's seeded generator (``info["state"]`` says
            which). Default: the integration's default state.
        scenario: the rules (reward, done) to play by: the name of a scenario file in the
            integration's folder (``gym_mame.list_scenarios(game)``; default
            ``"scenario"``) or a path to one, as ``retro.make(scenario=...)``.
        action_set: the name of one of the integration's named discrete action sets
            (metadata.json ``action_sets``, e.g. gym-super-mario-bros's
            ``"RIGHT_ONLY"``), used instead of its ``actions``; None: ``actions``.
        **game_options: the game's own settings, e.g. ``difficulty=3`` or
            ``character="ken"`` (``gym_mame.list_options(game)`` lists them with their
            values and defaults). A start made with other than the defaults is booted
            once and then kept in the cache folder (``$GYM_MAME_CACHE``).
    """


    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": 60}

    def __init__(
        self,
        game: str = "pong",
        render_mode: RenderMode | None = None,
        obs_type: ObsType = "rgb",
        frameskip: int | None = None,
        repeat_action_probability: float | None = None,
        action_type: ActionType = "discrete",
        full_action_space: bool = False,
        max_episode_steps: int | None = None,
        max_num_frames_per_episode: int | Literal["default"] | None = "default",
        noop_max: int = 0,
        rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
        mame_path: str | os.PathLike[str] | None = None,
        obs_size: tuple[int, int] | None = None,
        transport: Transport = "ipc",
        timeout: float = 30.0,
        rebuild_start_state: bool = False,
        num_players: int = 1,
        opponents: Sequence[Callable[[Any], Any] | None] | None = None,
        state: str | Sequence[str] | None = None,
        scenario: str | os.PathLike[str] | None = None,
        action_set: str | None = None,
        **game_options: Any,
    ) -> None:
        self._construction = construction(locals())
        options = PlayOptions.from_kwargs(
            {k: v for k, v in self._construction.items() if k != "game"})
        if "ray.rllib" in sys.modules:  # made by RLlib's runner from its bare id?
            from gym_mame.envs.rllib_guard import refuse_rllib_id_route
            refuse_rllib_id_route(str(game), obs_type)
        self._play = Play(game, options)
        self.render_mode = render_mode
        self.obs_type = obs_type
        self.game: Integration = self._play.game
        self.num_players = num_players
        self._mapper = self._play.mappers[0]
        self.action_space = self._mapper.space
        self.observation_space = self._play.observation_space
        self.ale = AleCompat(self)
        self._outer_checked = False
        self.metadata = {**self.metadata,
                         "render_fps": self._play.refresh_rate / self.frameskip}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its construction (game, options, spec) and its random generator's
        state: unpickling starts a fresh MAME, an env as made, to be reset (the episode in
        progress is not carried; :meth:`clone_state` moves one). This is what SuperSuit,
        RLlib's workers and ``multiprocessing``'s spawn need of an env or an env fn."""
        return (rebuilt, (type(self), self._construction,
                          {"_np_random": self._np_random,
                           "_np_random_seed": self._np_random_seed, "spec": self.spec}))

    # -- the episode's settings are the play core's: setting one here changes play ------
    frameskip = core_attribute("frameskip", "Emulated frames per step.")
    _frameskip = frameskip  # the name Gymnasium's AtariPreprocessing checks
    repeat_action_probability = core_attribute("repeat_action_probability")
    max_episode_steps = core_attribute("max_episode_steps")
    max_num_frames_per_episode = core_attribute("max_num_frames_per_episode")
    noop_max = core_attribute("noop_max")
    emulator = core_attribute("emulator", "The MAME behind this env (memory access, save "
                              "states, raw stepping).", settable=False)
    _emulator = emulator
    _observer = core_attribute("observer", settable=False)
    _episode_frame = core_attribute("episode_frame", settable=False)

    @property
    def bridge(self) -> Any:
        """The MAME process's connection (for the package's tools)."""
        return self._play.emulator.bridge

    @property
    def mame_version(self) -> str:
        return self._play.emulator.mame_version

    @property
    def description(self) -> dict[str, Any]:
        return self._play.emulator.description

    # -- set-up ----------------------------------------------------------------
    def _check_outer_wrappers(self) -> None:
        """Look once at the wrappers this env's first ``reset`` is called through.

        A step limit (Gymnasium's ``TimeLimit``, as ``gymnasium.make(...,
        max_episode_steps=N)`` adds) replaces the frame limit, so that the one the
        user asked for is the one that holds. A wrapper that skips frames itself (SB3's
        ``MaxAndSkipEnv`` in ``make_atari_env``, Gymnasium's ``MaxAndSkipObservation``)
        on top of this env's own frame skip is warned about: the agent would act every
        frameskip x skip frames, a different task from the one the recipe means."""
        frame = sys._getframe(2)
        while frame is not None:
            # Only a method's frame is asked for its locals: a frame keeps the snapshot,
            # and the caller's would then hold on to this env after its last reference.
            code, candidate = frame.f_code, frame
            frame = frame.f_back
            if not code.co_varnames[:1] == ("self",):
                continue
            wrapper = candidate.f_locals.get("self")
            if not isinstance(wrapper, gym.Wrapper) or wrapper.unwrapped is not self:
                continue
            if isinstance(wrapper, gym.wrappers.TimeLimit):
                self.max_num_frames_per_episode = None
            skip = getattr(wrapper, "_skip", 1)
            if isinstance(skip, int) and skip > 1 and self.frameskip > 1:
                name = self.spec.id if self.spec is not None else self.game.env_id
                gym.logger.warn(
                    f"frame skip applied twice: {name} holds each action for "
                    f"{self.frameskip} frames and {type(wrapper).__name__} repeats it "
                    f"{skip} times ({self.frameskip * skip} frames an agent step). Use "
                    f"{no_frameskip_id(self.game.name)} or frameskip=1 with that wrapper.")

    # -- Gymnasium API ---------------------------------------------------------
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Load the start state, run optional seeded no-op steps, return the first frame."""
        if not self._outer_checked:
            self._outer_checked = True
            self._check_outer_wrappers()
        self.send_reset(seed=seed, options=options)
        return self.receive_reset()

    def send_reset(self, *, seed: int | None = None,
                   options: dict[str, Any] | None = None) -> None:
        """Start a reset without waiting for its frames (finish with :meth:`receive_reset`)."""
        super().reset(seed=seed)
        self._play.send_reset(self.np_random)

    def receive_reset(self, out: Any = None) -> tuple[Any, dict[str, Any]]:
        """Finish :meth:`send_reset`: the first observation (into ``out``) and info."""
        obs = self._play.receive_reset(out)
        return obs, self._play.info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Play ``action`` for ``frameskip`` frames (sticky actions as ALE v5, the other
        players' policies or NOOP) and return ``(observation, reward, terminated,
        truncated, info)``: the scenario's reward summed over the step's frames,
        ``terminated`` when its done rule holds (nothing after that frame counts),
        ``truncated`` at the step or frame limit, and ``info`` with every variable and
        ``episode_frame_number``. Raises ``ValueError`` for an action outside the space."""
        self.send_step(action)
        return self.receive_step()

    def send_step(self, action: Any) -> None:
        """Start a step without waiting for MAME (finish it with :meth:`receive_step`):
        how one thread drives many envs (see :class:`gym_mame.MameVectorEnv`)."""
        if action is None:  # None is the core's "presses nothing": not an action here
            raise ValueError("None is outside the action space")
        self._play.send_step([action] + [None] * (self.num_players - 1), self.np_random)

    def receive_step(self, out: Any = None) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Wait for the step :meth:`send_step` started and return what ``step`` returns
        (the observation written into ``out`` if given)."""
        played = self._play.receive_step(out)
        return (played.observation, played.rewards[0], played.out[0], played.truncated,
                self._play.info())

    def render(self) -> np.ndarray | None:
        """The last frame as RGB, as a person should see it (``rgb_array``): the integration's
        crop at its ``display_aspect``, not resized to ``obs_size``. With ``human``, MAME draws
        its own window and this returns None."""
        if self.render_mode == "rgb_array":
            return self._play.observer.rendered
        return None

    def close(self) -> None:
        """Stop MAME. Safe to call more than once."""
        play = getattr(self, "_play", None)
        if play is not None:
            play.close()

    # -- ALE-style extras ------------------------------------------------------
    def get_action_meanings(self) -> list[str]:
        """Names of the discrete actions, NOOP first."""
        return self._mapper.meanings()

    def lives(self) -> int:
        """Lives left, from the integration's ``lives`` variable (0 if it has none)."""
        values = self._play.values
        if values is None or "lives" not in values:
            return 0
        return int(values["lives"])

    def game_over(self) -> bool:
        """Whether the last step ended the episode (ALE's ``game_over()``)."""
        return self._play.terminated

    def get_ram(self) -> np.ndarray:
        """The integration's RAM regions as the last step left them."""
        step = self._play.observer.step
        if step is None:
            return np.frombuffer(self._play.emulator.read_ram(), np.uint8).copy()
        return np.frombuffer(step.ram, np.uint8).copy()

    def save_state(self, path: str | os.PathLike[str]) -> None:
        """Save the machine state to ``path`` (MAME's format) without moving the game on."""
        self._play.emulator.save_state_file(path)

    def clone_state(self, include_rng: bool = False) -> EnvState:
        """The whole state of the episode at this step, in memory, as ale-py's
        ``AtariEnv.clone_state``: the machine (a save state) and the episode's bookkeeping
        (frame number, step count, lives and every variable the rules compare against,
        each player's sticky action, the last observation). ``include_rng``: also the
        env's random generator (sticky actions, opponents' draws), so that the same
        actions replay the same steps; without it the restored episode draws on.
        The game does not move on. The state pickles (to restore in another process's
        env of the same game). A save state holds no picture: the first frame after a
        restore is partly MAME's redraw, so at frameskip 1 the first observed frame can
        differ from the first play in a few lines (its RAM, reward and info do not); at
        frameskip 2 and more, and from the second frame on, frames are identical."""
        episode = self._play.episode()
        rng = copy.deepcopy(self.np_random.bit_generator.state) if include_rng else None
        return EnvState(self.game.name, self.obs_type, self._play.emulator.clone_state(),
                        episode, rng)

    def restore_state(self, state: EnvState) -> None:
        """Go back to a :meth:`clone_state` (as ale-py's ``restore_state``): the next step
        goes on from there with the episode's bookkeeping as it was (and the random
        generator, if the state includes it)."""
        if not isinstance(state, EnvState):
            raise TypeError(f"restore_state() takes what clone_state() returns, not "
                            f"{type(state).__name__}")
        if (state.game, state.obs_type) != (self.game.name, self.obs_type):
            raise SaveStateError(f"that state is of {state.game} (obs_type={state.obs_type!r}), "
                                 f"this env plays {self.game.name} "
                                 f"(obs_type={self.obs_type!r})")
        self._play.emulator.restore_state(state.machine)
        self._play.restore_episode(state.episode)
        if state.rng is not None:
            self.np_random.bit_generator.state = copy.deepcopy(state.rng)


@dataclass(frozen=True)
class EnvState:
    """What :meth:`MameEnv.clone_state` returns: the game and observation type it belongs
    to, the machine's save state, the episode's bookkeeping, and the random generator's
    state (or None)."""

    game: str
    obs_type: str
    machine: State
    episode: dict[str, Any]
    rng: dict[str, Any] | None


def construction(arguments: dict[str, Any], var_keyword: str = "game_options"
                 ) -> dict[str, Any]:
    """The keyword arguments an env was made with, from its ``__init__``'s ``locals()``
    taken first thing (its ``**var_keyword`` spread out), to rebuild it when unpickled."""
    arguments = dict(arguments)
    arguments.pop("self")
    arguments.pop("__class__", None)
    spread = arguments.pop(var_keyword)
    return {**arguments, **spread}


def rebuilt(cls: type, kwargs: dict[str, Any], attributes: dict[str, Any]) -> Any:
    """An unpickled env: made afresh from its construction, then given ``attributes``."""
    env = cls(**kwargs)
    for name, value in attributes.items():
        setattr(env, name, value)
    return env


def no_frameskip_id(game: str) -> str:
    """The id that runs ``game`` one frame a step without sticky actions, for recipes that
    skip frames themselves (ALE's ``...NoFrameskip-v4``)."""
    return f"Mame/{game}NoFrameskip-v0"


class AleCompat:
    """The part of ale-py's ``ALEInterface`` that Atari wrappers call, as
    ``env.unwrapped.ale``: Gymnasium's ``AtariPreprocessing`` and
    Stable-Baselines3's ``AtariWrapper`` use ``lives()`` and the screen getters.
    Screens are the observation's frame (crop and ``obs_size`` applied).

    It holds its env weakly: the env owns it, and a cycle between the two would
    keep MAME running after the last reference to the env is dropped."""

    def __init__(self, env: MameEnv) -> None:
        self._env = weakref.proxy(env)

    def lives(self) -> int:
        return self._env.lives()

    def game_over(self) -> bool:
        return self._env.game_over()

    def getRAM(self) -> np.ndarray:
        return self._env.get_ram()

    def getScreenRGB(self, screen_data: np.ndarray | None = None) -> np.ndarray:
        return self._fill(self._env._observer.screen(grayscale=False), screen_data)

    def getScreenGrayscale(self, screen_data: np.ndarray | None = None) -> np.ndarray:
        return self._fill(self._env._observer.screen(grayscale=True), screen_data)

    def cloneState(self, include_rng: bool = False) -> EnvState:
        """The env's :meth:`MameEnv.clone_state` (the whole episode, as ALE's state)."""
        return self._env.clone_state(include_rng=include_rng)

    def restoreState(self, state: EnvState) -> None:
        self._env.restore_state(state)

    @staticmethod
    def _fill(frame: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        if out is None:
            return frame
        out[...] = frame.reshape(out.shape)
        return out

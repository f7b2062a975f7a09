"""MameEnv: a game running in MAME as a Gymnasium environment."""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np

from gym_mame import frames as framing
from gym_mame import integration as integrations
from gym_mame.emulator import LOAD_SETTLE_FRAMES, Emulator, Segment
from gym_mame.errors import GymMameError, IntegrationError
from gym_mame.integration import Integration
from gym_mame.match import Match
from gym_mame.observations import OBS_TYPES, Observer
from gym_mame.protocol import U32_MAX

MAX_FRAMESKIP = U32_MAX  # frames of one step: what one protocol segment carries
# Options an integration may default otherwise (metadata.json "defaults").
PACKAGE_DEFAULTS: dict[str, Any] = {"frameskip": 4, "repeat_action_probability": 0.0,
                                    "max_num_frames_per_episode": 108_000}


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
        **game_options: the game's own settings, e.g. ``difficulty=3`` or
            ``character="ken"`` (``gym_mame.list_options(game)`` lists them with their
            values and defaults). A start made with other than the defaults is booted
            once and then kept in the cache folder (``$GYM_MAME_CACHE``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": 60}

    def __init__(
        self,
        game: str = "pong",
        render_mode: str | None = None,
        obs_type: str = "rgb",
        frameskip: int | None = None,
        repeat_action_probability: float | None = None,
        action_type: str = "discrete",
        full_action_space: bool = False,
        max_episode_steps: int | None = None,
        max_num_frames_per_episode: int | Literal["default"] | None = "default",
        noop_max: int = 0,
        rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
        mame_path: str | os.PathLike[str] | None = None,
        obs_size: tuple[int, int] | None = None,
        transport: str = "ipc",
        timeout: float = 30.0,
        rebuild_start_state: bool = False,
        num_players: int = 1,
        opponents: Sequence[Callable[[Any], Any] | None] | None = None,
        state: str | Sequence[str] | None = None,
        scenario: str | os.PathLike[str] | None = None,
        **game_options: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, not {render_mode!r}")
        if obs_type not in OBS_TYPES:
            raise ValueError(f"obs_type must be one of {OBS_TYPES}, not {obs_type!r}")
        if not _is_int(noop_max) or noop_max < 0:
            raise ValueError(f"noop_max must be an integer >= 0, not {noop_max!r}")
        if max_episode_steps is not None and (not _is_int(max_episode_steps)
                                              or max_episode_steps < 1):
            raise ValueError(f"max_episode_steps must be a positive integer or None, not "
                             f"{max_episode_steps!r}")
        if obs_size is not None and (len(obs_size) != 2 or not all(
                _is_int(n) and 1 <= n <= 65535 for n in obs_size)):
            raise ValueError(f"obs_size must be (height, width), two integers from 1 to "
                             f"65535, not {obs_size!r}")
        self._window = render_mode == "human" and bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if render_mode == "human" and not self._window:
            gym.logger.warn("render_mode='human' opens MAME's window, but there is no display "
                            "(DISPLAY is not set): running headless")
        self.render_mode = render_mode
        self.obs_type = obs_type
        self.max_episode_steps = max_episode_steps
        self.noop_max = int(noop_max)
        self._match = Match(integrations.load(game, scenario), num_players, action_type,
                            full_action_space)
        self.game: Integration = self._match.game_for_play(state, game_options)
        self.num_players = num_players
        opponents = list(opponents or [])
        if len(opponents) > num_players - 1:
            raise ValueError(f"{len(opponents)} opponent policies for {num_players - 1} "
                             "other player(s)")
        if any(o is not None and not callable(o) for o in opponents):
            raise ValueError("each opponent is a callable (observation -> action) or None")
        self._opponents = opponents + [None] * (num_players - 1 - len(opponents))
        defaults = {**PACKAGE_DEFAULTS, **self.game.defaults}
        frameskip = defaults["frameskip"] if frameskip is None else frameskip
        if not _is_int(frameskip) or not 1 <= frameskip <= MAX_FRAMESKIP:
            raise ValueError(f"frameskip must be an integer from 1 to {MAX_FRAMESKIP}, "
                             f"not {frameskip!r}")
        if repeat_action_probability is None:
            repeat_action_probability = defaults["repeat_action_probability"]
        if not 0.0 <= repeat_action_probability <= 1.0:
            raise ValueError("repeat_action_probability must be in [0, 1], "
                             f"not {repeat_action_probability!r}")
        if max_num_frames_per_episode == "default":
            max_num_frames_per_episode = defaults["max_num_frames_per_episode"]
        if max_num_frames_per_episode is not None and (not _is_int(max_num_frames_per_episode)
                                                       or max_num_frames_per_episode < 1):
            raise ValueError("max_num_frames_per_episode must be a positive integer or None, "
                             f"not {max_num_frames_per_episode!r}")
        self.frameskip = int(frameskip)
        self._frameskip = self.frameskip  # the name Gymnasium's AtariPreprocessing checks
        self.repeat_action_probability = float(repeat_action_probability)
        self.max_num_frames_per_episode = max_num_frames_per_episode
        self._outer_checked = False
        self._emulator = Emulator(self.game, rom_path=rom_path, mame_path=mame_path,
                                  transport=transport, timeout=timeout, window=self._window)
        try:  # from here on, any failure must not leave MAME running
            if obs_type == "ram" and not self.game.ram:
                raise IntegrationError(f"{self.game.name} defines no RAM regions, so "
                                       "obs_type='ram' is not available; use 'rgb' or 'dict'")
            if self.game.scenario.every_frame:  # its rules read every frame of a step
                self._emulator.bridge.check_every_frame(self.frameskip)
            self._mapper = self._match.mappers[0]
            self.action_space = self._mapper.space
            self._observer = Observer(self._emulator, obs_type,
                                      tuple(obs_size) if obs_size is not None
                                      else self.game.obs_size, render_mode == "rgb_array")
            self.ale = AleCompat(self)
            self._emulator.prepare_start(rebuild_start_state)
            first = self._emulator.reset(frames=1)
            framing.check_crop(self.game.crop, first.height, first.width)
            self.observation_space = self._observer.make_space(first)
        except BaseException:
            self._emulator.close()
            raise
        self.metadata = {**self.metadata,
                         "render_fps": self._emulator.refresh_rate / self.frameskip}
        self._held: list[tuple[str, ...]] = [()] * num_players
        self._last_obs: Any = None
        self._values_prev: dict[str, float] | None = None
        self._terminated = False
        self._interrupted = False
        self._steps = 0
        self._episode_frame = 0
        self._start = 0  # which of the starts this episode began at

    @property
    def emulator(self) -> Emulator:
        """The MAME behind this env (memory access, save states, raw stepping)."""
        return self._emulator

    @property
    def bridge(self) -> Any:
        """The MAME process's connection (for the package's tools)."""
        return self._emulator.bridge

    @property
    def mame_version(self) -> str:
        return self._emulator.mame_version

    @property
    def description(self) -> dict[str, Any]:
        return self._emulator.description

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

    # -- the per-step path -----------------------------------------------------
    def _segments(self, held: list[tuple[str, ...]]) -> list[Segment]:
        """The frames of one step (sticky actions per player, ALE v5 semantics)."""
        self._move_opponent()
        segments, self._held = self._match.segments(
            self._emulator, self._held, held, self.frameskip, self.repeat_action_probability,
            self.np_random)
        return segments

    def _move_opponent(self) -> None:
        """The integration's built-in opponent (one-player games only)."""
        opponent = self.game.opponent
        if opponent is None or self._values_prev is None or self.num_players > 1:
            return
        target = opponent.scale * self._values_prev[opponent.follow] + opponent.offset
        position = self._emulator.positions[opponent.input]
        limit = opponent.speed * self.frameskip
        position += max(-limit, min(limit, target - position))
        self._emulator.set_analog(opponent.input, round(position))

    def _info(self, values: dict[str, float]) -> dict[str, Any]:
        info: dict[str, Any] = dict(values)
        info["episode_frame_number"] = self._episode_frame
        if len(self.game.starts) > 1:
            info["state"] = self.game.starts[self._start].name
        return info

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
        self._held = [()] * self.num_players
        self._values_prev = None
        self._steps = 0
        self._interrupted = False
        count = self._emulator.start_count
        self._start = int(self.np_random.integers(count)) if count > 1 else 0
        noops = int(self.np_random.integers(0, self.noop_max + 1)) if self.noop_max else 0
        frames = LOAD_SETTLE_FRAMES + noops * self.frameskip
        if frames > MAX_FRAMESKIP:
            raise ValueError(f"noop_max * frameskip is more than {MAX_FRAMESKIP} frames")
        self._emulator.send_reset(frames, pixels=self._observer.wants_pixels, start=self._start)
        self._episode_frame = frames

    def receive_reset(self, out: Any = None) -> tuple[Any, dict[str, Any]]:
        """Finish :meth:`send_reset`: the first observation (into ``out``) and info."""
        step = self._emulator.receive_step()
        self._terminated = False
        values = self._match.start(step.values)
        self._values_prev = values
        self._last_obs = self._observer.observe(step, step.ram, values, out)
        return self._last_obs, self._info(values)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self.send_step(action)
        return self.receive_step()

    def send_step(self, action: Any) -> None:
        """Start a step without waiting for MAME (finish it with :meth:`receive_step`):
        how one thread drives many envs (see :class:`gym_mame.MameVectorEnv`)."""
        if self._values_prev is None:
            raise RuntimeError("call reset() before step()")
        if self._interrupted:
            raise RuntimeError("the previous step was interrupted (e.g. by Ctrl-C) before "
                               "MAME's reply came, so this episode's bookkeeping is lost; "
                               "call reset() to start a new episode")
        held = [self._match.held(0, action)]
        for i, policy in enumerate(self._opponents, start=1):
            # an idle opponent presses nothing, also where its action 0 is not NOOP
            held.append(self._match.held(i, policy(self._last_obs)) if policy is not None
                        else ())
        self._emulator.send_step(self._segments(held), pixels=self._observer.wants_pixels,
                                 every_frame=self.game.scenario.every_frame)

    def receive_step(self, out: Any = None) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Wait for the step :meth:`send_step` started and return what ``step`` returns
        (the observation written into ``out`` if given)."""
        try:
            step = self._emulator.receive_step()
        except GymMameError:
            raise
        except BaseException:
            self._interrupted = True  # Ctrl-C: MAME finishes the step without us
            raise
        self._steps += 1
        outcome = self._match.evaluate(step.frames, self._values_prev)
        values, reward = outcome.values, outcome.rewards[0]
        terminated = outcome.out[0]
        ram = step.ram_frames[outcome.frame]
        self._episode_frame += self.frameskip
        self._terminated = terminated
        if self.max_episode_steps is not None:
            truncated = self._steps >= self.max_episode_steps
        else:
            cap = self.max_num_frames_per_episode
            truncated = cap is not None and self._steps * self.frameskip >= cap
        self._values_prev = values
        self._last_obs = self._observer.observe(step, ram, values, out)
        return self._last_obs, reward, terminated, truncated, self._info(values)

    def render(self) -> np.ndarray | None:
        """The last frame as RGB, as a person should see it (``rgb_array``): the integration's
        crop at its ``display_aspect``, not resized to ``obs_size``. With ``human``, MAME draws
        its own window and this returns None."""
        if self.render_mode == "rgb_array":
            return self._observer.rendered
        return None

    def close(self) -> None:
        """Stop MAME. Safe to call more than once."""
        emulator = getattr(self, "_emulator", None)
        if emulator is not None:
            emulator.close()

    # -- ALE-style extras ------------------------------------------------------
    def get_action_meanings(self) -> list[str]:
        """Names of the discrete actions, NOOP first."""
        return self._mapper.meanings()

    def lives(self) -> int:
        """Lives left, from the integration's ``lives`` variable (0 if it has none)."""
        if self._values_prev is None or "lives" not in self._values_prev:
            return 0
        return int(self._values_prev["lives"])

    def game_over(self) -> bool:
        """Whether the last step ended the episode (ALE's ``game_over()``)."""
        return self._terminated

    def get_ram(self) -> np.ndarray:
        """The integration's RAM regions as the last step left them."""
        step = self._observer.step
        if step is None:
            return np.frombuffer(self._emulator.read_ram(), np.uint8).copy()
        return np.frombuffer(step.ram, np.uint8).copy()

    def save_state(self, path: str | os.PathLike[str]) -> None:
        """Save the machine state to ``path`` (MAME's format) without moving the game on."""
        self._emulator.save_state_file(path)


def no_frameskip_id(game: str) -> str:
    """The id that runs ``game`` one frame a step without sticky actions, for recipes that
    skip frames themselves (ALE's ``...NoFrameskip-v4``)."""
    return f"Mame/{game}NoFrameskip-v0"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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

    @staticmethod
    def _fill(frame: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        if out is None:
            return frame
        out[...] = frame.reshape(out.shape)
        return out

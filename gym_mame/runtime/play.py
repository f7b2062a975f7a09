"""The play core: one game in one MAME, played episode by episode, under every front end.

:class:`PlayOptions` holds the options a game is played with, checked once, up front
(before MAME starts), against their annotated types: a bool does not pass as an int, a
Literal takes only its values. :class:`Play` owns what an episode is: the players'
:class:`~gym_mame.runtime.match.Match` and the :class:`~gym_mame.runtime.observations.Observer`, the
starts (booted, ``until`` included, by the Emulator on first use), no-op starts, sticky
actions, built-in and policy opponents, ``after_step`` rules, truncation, and the
bookkeeping that makes a step interrupted by Ctrl-C refuse to go on until a reset. A
step is split into :meth:`Play.send_step` and :meth:`Play.receive_step`, so that one
thread can drive many games.

:class:`gym_mame.MameEnv` (one agent), the PettingZoo envs (every player an agent) and
the vector env's sub-envs (MameEnvs) are front ends over this: they turn its results
into their APIs' shapes and evaluate, boot or check nothing themselves.
"""

from __future__ import annotations

import copy
import functools
import os
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import gymnasium as gym
import numpy as np

from gym_mame import integration as integrations
from gym_mame.errors import GymMameError, IntegrationError
from gym_mame.integration import Integration
from gym_mame.runtime import frames as framing
from gym_mame.runtime.actions import ACTION_TYPES
from gym_mame.runtime.emulator import LOAD_SETTLE_FRAMES, Emulator, EmulatorStep, Segment
from gym_mame.runtime.match import Match, Outcome
from gym_mame.runtime.observations import OBS_TYPES, Observer, ObsType
from gym_mame.wire.protocol import U32_MAX

MAX_FRAMESKIP = U32_MAX  # frames of one step: what one protocol segment carries
INTERRUPTED_STEP = ("the previous step was interrupted (e.g. by Ctrl-C) before it finished, "
                    "so this episode's bookkeeping is lost; call reset() to start a new "
                    "episode")
# Options an integration may default otherwise (metadata.json "defaults").
PACKAGE_DEFAULTS: dict[str, Any] = {"frameskip": 4, "repeat_action_probability": 0.0,
                                    "max_num_frames_per_episode": 108_000}

ActionType = Literal["discrete", "multi_discrete", "multi_binary", "filtered", "continuous"]
RenderMode = Literal["human", "rgb_array"]
Transport = Literal["ipc", "tcp"]
Policy = Callable[[Any], Any]


@dataclass(frozen=True)
class PlayOptions:
    """How a game is played; every front end takes these (see :class:`gym_mame.MameEnv`
    for what each does). ``None`` for ``frameskip`` and ``repeat_action_probability``
    and ``"default"`` for ``max_num_frames_per_episode`` take the integration's default
    (metadata.json ``defaults``), else the package's. Checked when made: a wrong type or
    value raises ValueError naming the option, before any MAME starts."""

    obs_type: ObsType = "rgb"
    frameskip: int | None = None
    repeat_action_probability: float | None = None
    action_type: ActionType = "discrete"
    full_action_space: bool = False
    max_episode_steps: int | None = None
    max_num_frames_per_episode: int | Literal["default"] | None = "default"
    noop_max: int = 0
    rom_path: str | os.PathLike[str] | Sequence[str] | None = None
    mame_path: str | os.PathLike[str] | None = None
    obs_size: tuple[int, int] | None = None
    transport: Transport = "ipc"
    timeout: float = 30.0
    rebuild_start_state: bool = False
    num_players: int = 1
    opponents: Sequence[Policy | None] | None = None
    state: str | Sequence[str] | None = None
    scenario: str | os.PathLike[str] | None = None
    action_set: str | None = None
    render_mode: RenderMode | None = None
    game_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in fields(self):
            check(f.name, getattr(self, f.name))
        if self.opponents is not None and len(self.opponents) > self.num_players - 1:
            raise ValueError(f"{len(self.opponents)} opponent policies for "
                             f"{self.num_players - 1} other player(s)")

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> PlayOptions:
        """The options among ``kwargs`` (by name); the rest are the game's own options."""
        names = {f.name for f in fields(cls)} - {"game_options"}
        return cls(**{k: v for k, v in kwargs.items() if k in names},
                   game_options={k: v for k, v in kwargs.items() if k not in names})


# What a value must be, beyond its annotated type: (said as, holds for a given value).
_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "obs_type": (f"one of {OBS_TYPES}", lambda v: True),
    "action_type": (f"one of {ACTION_TYPES}", lambda v: True),
    "transport": ("'ipc' or 'tcp'", lambda v: True),
    "render_mode": ("one of ['human', 'rgb_array'] or None", lambda v: True),
    "frameskip": (f"an integer from 1 to {MAX_FRAMESKIP}", lambda v: 1 <= v <= MAX_FRAMESKIP),
    "repeat_action_probability": ("a number in [0, 1]", lambda v: 0.0 <= v <= 1.0),
    "max_episode_steps": ("a positive integer or None", lambda v: v >= 1),
    "max_num_frames_per_episode": ("a positive integer, None or 'default'", lambda v: v >= 1),
    "noop_max": ("an integer >= 0", lambda v: v >= 0),
    "obs_size": ("(height, width), two integers from 1 to 65535",
                 lambda v: all(1 <= n <= 65535 for n in v)),
    "timeout": ("a number of seconds > 0", lambda v: v > 0),
    "num_players": ("an integer >= 1", lambda v: v >= 1),
    "opponents": ("a list of callables (observation -> action) or None each", lambda v: True),
    "full_action_space": ("True or False", lambda v: True),
    "rebuild_start_state": ("True or False", lambda v: True),
}


def check(option: str, value: Any, name: str | None = None) -> None:
    """Raise ValueError unless ``value`` is one option ``option`` takes (said of ``name``,
    default ``option``: a front end's own name for the same option)."""
    if not _conforms(value, _hints()[option]) or not _in_range(option, value):
        raise ValueError(f"{name or option} must be {describe(option)}, not {value!r}")


def _in_range(name: str, value: Any) -> bool:
    """Whether a value of the right type holds its option's rule (None and "default"
    stand for the default, which is checked once resolved)."""
    rule = _RULES.get(name)
    return rule is None or value is None or isinstance(value, str) or rule[1](value)


def describe(name: str) -> str:
    """What option ``name`` must be, in words."""
    rule = _RULES.get(name)
    return rule[0] if rule is not None else f"of type {_hints()[name]}"


@functools.cache
def _hints() -> dict[str, Any]:
    return get_type_hints(PlayOptions)


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint`` (the forms PlayOptions' annotations use)."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(_conforms(value, h) for h in args)
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    if hint is int:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, bool) and value == value  # not NaN
    if hint is str:
        return isinstance(value, str)
    if origin is os.PathLike:
        return isinstance(value, os.PathLike)
    if origin is tuple:  # a fixed-length tuple: any sequence of that length does
        return isinstance(value, Sequence) and not isinstance(value, str) \
            and len(value) == len(args) and all(map(_conforms, value, args))
    if origin is Sequence:
        return isinstance(value, Sequence) and not isinstance(value, str) \
            and all(_conforms(v, args[0]) for v in value)
    if origin is Mapping:
        return isinstance(value, Mapping)
    if origin is Callable:
        return callable(value)
    raise TypeError(f"no check for {hint!r}")  # a new annotation form: teach this function


def core_attribute(name: str, doc: str | None = None, *, settable: bool = True) -> Any:
    """A front end's attribute that is its play core's (``self._play``) attribute ``name``:
    one value, so that setting it on the front end (when ``settable``) changes play."""
    def get(front_end: Any) -> Any:
        return getattr(front_end._play, name)

    def put(front_end: Any, value: Any) -> None:
        setattr(front_end._play, name, value)

    return property(get, put if settable else None, doc=doc)


@dataclass
class Played:
    """What one step gave: the observation, each player's reward and whether it is out
    (terminated), whether the game is over, whether the step limit truncated the
    episode, and the values after it."""

    observation: Any
    rewards: list[float]
    out: list[bool]
    over: bool
    truncated: bool
    values: dict[str, float]


class Play:
    """``game`` (an integration name or folder) played in its own MAME with ``options``.

    The episode's settings (``frameskip``, ``repeat_action_probability``, ``noop_max``,
    ``max_episode_steps``, ``max_num_frames_per_episode``) are attributes, resolved from
    the options and the integration's defaults; a front end may change them between
    steps. Random draws (start, no-ops, sticky actions) come from the generator each
    call is given: the front end owns seeding."""

    def __init__(self, game: str | os.PathLike[str], options: PlayOptions) -> None:
        self.options = options
        self.window = options.render_mode == "human" and bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if options.render_mode == "human" and not self.window:
            gym.logger.warn("render_mode='human' opens MAME's window, but there is no display "
                            "(DISPLAY is not set): running headless")
        self.match = Match(integrations.load(game, options.scenario), options.num_players,
                           options.action_type, options.full_action_space, options.action_set)
        self.game: Integration = self.match.game  # the folder's record; the choices below
        self.starts = self.match.starts_for_play(options.state, options.game_options)
        self.num_players = options.num_players
        opponents = list(options.opponents or [])
        # player 0 is always the front end's; the others' policies, or None (no policy)
        self.policies: list[Policy | None] = [None, *opponents] + [None] * (
            self.num_players - 1 - len(opponents))
        defaults = {**PACKAGE_DEFAULTS, **self.game.defaults}
        self.frameskip: int = int(_resolved("frameskip", options.frameskip, defaults, None))
        self.repeat_action_probability: float = float(_resolved(
            "repeat_action_probability", options.repeat_action_probability, defaults, None))
        self.max_num_frames_per_episode: int | None = _resolved(
            "max_num_frames_per_episode", options.max_num_frames_per_episode, defaults,
            "default")
        self.max_episode_steps: int | None = options.max_episode_steps
        self.noop_max: int = int(options.noop_max)
        self.emulator = Emulator(self.game, rom_path=options.rom_path,
                                 mame_path=options.mame_path, transport=options.transport,
                                 timeout=options.timeout, window=self.window,
                                 starts=self.starts)
        try:  # from here on, any failure must not leave MAME running
            if options.obs_type == "ram" and not self.game.ram:
                raise IntegrationError(f"{self.game.name} defines no RAM regions, so "
                                       "obs_type='ram' is not available; use 'rgb' or 'dict'")
            if self.game.scenario.every_frame:  # its rules read every frame of a step
                self.emulator.check_every_frame(self.frameskip)
            size = options.obs_size
            self.observer = Observer(self.emulator, options.obs_type,
                                     (int(size[0]), int(size[1])) if size is not None
                                     else self.game.obs_size,
                                     options.render_mode == "rgb_array")
            self.emulator.prepare_start(options.rebuild_start_state)
            first = self.emulator.reset(frames=1)
            framing.check_crop(self.game.crop, first.height, first.width)
            self.observation_space = self.observer.make_space(first)
        except BaseException:
            self.emulator.close()
            raise
        self.held: list[tuple[Any, ...]] = [()] * self.num_players
        self.finished = [False] * self.num_players  # each player: out, or truncated
        self.last_obs: Any = None
        self.values: dict[str, float] | None = None  # None: no episode (reset first)
        self.terminated = False
        self.interrupted = False  # a reset or step began and its bookkeeping did not end
        self.steps = 0
        self.episode_frame = 0
        self.start = 0  # which of the starts this episode began at
        self._rest: tuple[list[tuple[Any, ...]], int] = ([], 0)  # a step's frames to send
        self._rng: np.random.Generator | None = None

    @property
    def mappers(self) -> list[Any]:
        """Each player's action mapper (its ``space``, ``meanings()``)."""
        return self.match.mappers

    @property
    def refresh_rate(self) -> float:
        return self.emulator.refresh_rate

    def close(self) -> None:
        self.emulator.close()

    # -- reset ------------------------------------------------------------------
    def send_reset(self, rng: np.random.Generator) -> None:
        """Start an episode: draw its start and no-op count from ``rng``, load the start
        state and run its frames without waiting (finish with :meth:`receive_reset`)."""
        self.interrupted = True  # until receive_reset has the episode's first values
        self.held = [()] * self.num_players
        self.finished = [False] * self.num_players
        self.values = None
        self.steps = 0
        count = self.emulator.start_count
        self.start = int(rng.integers(count)) if count > 1 else 0
        noops = int(rng.integers(0, self.noop_max + 1)) if self.noop_max else 0
        frames = LOAD_SETTLE_FRAMES + noops * self.frameskip
        if frames > MAX_FRAMESKIP:
            raise ValueError(f"noop_max * frameskip is more than {MAX_FRAMESKIP} frames")
        self.emulator.send_reset(frames, pixels=self.observer.wants_pixels, start=self.start)
        self.episode_frame = frames

    def receive_reset(self, out: Any = None) -> Any:
        """Finish :meth:`send_reset`; return the first observation (written into ``out``)."""
        try:
            step = self.emulator.receive_step()
        except GymMameError:
            self.interrupted = False  # the error says what happened; no reply is owed
            raise
        self.terminated = False
        values = self.match.start(step.values)
        self.last_obs = self.observer.observe(step, step.ram, values, out)
        self.values = values
        self.interrupted = False
        return self.last_obs

    # -- step -------------------------------------------------------------------
    def send_step(self, actions: Sequence[Any], rng: np.random.Generator) -> None:
        """Start a step without waiting for MAME (finish with :meth:`receive_step`).
        ``actions``: one per player; None presses nothing; a player with an opponent
        policy plays what it returns for the last observation instead. Raises
        ``ValueError`` for an action outside its player's space."""
        if self.interrupted:
            raise RuntimeError(INTERRUPTED_STEP)
        if self.values is None:
            raise RuntimeError("call reset() before step()")
        held = []
        for i, (action, policy) in enumerate(zip(actions, self.policies, strict=True)):
            if policy is not None:
                action = policy(self.last_obs)
            # a player without an action presses nothing, also where its action 0 is not NOOP
            held.append(self.match.held(i, action) if action is not None else ())
        # after_step rules run between frames, as a one-frame env wrapped in a frame skip
        # does them: then the step's frames are sent one at a time
        frames = 1 if self.game.scenario.after_step else self.frameskip
        self._rest = (held, self.frameskip - frames)
        self._rng = rng
        self.interrupted = True  # until receive_step has done the step's bookkeeping
        self.emulator.send_step(self._segments(held, frames),
                                pixels=self.observer.wants_pixels,
                                every_frame=self.game.scenario.every_frame)

    def receive_step(self, out: Any = None) -> Played:
        """Wait for the step :meth:`send_step` started; its observation is written into
        ``out`` if given."""
        try:
            step = self.emulator.receive_step()
        except GymMameError:
            self.interrupted = False  # the error says what happened; no reply is owed
            raise
        assert self.values is not None
        self.steps += 1
        outcome = self.match.evaluate(step.frames, self.values)
        if self.game.scenario.after_step:
            step, outcome = self._frames_after_step(step, outcome)
        self.episode_frame += self.frameskip
        self.terminated = outcome.out[0]
        if self.max_episode_steps is not None:
            truncated = self.steps >= self.max_episode_steps
        else:
            cap = self.max_num_frames_per_episode
            truncated = cap is not None and self.steps * self.frameskip >= cap
        self.values = outcome.values
        self.finished = [f or o or truncated for f, o in zip(self.finished, outcome.out,
                                                             strict=True)]
        self.last_obs = self.observer.observe(step, step.ram_frames[outcome.frame],
                                              outcome.values, out)
        self.interrupted = False  # (Ctrl-C anywhere before this: the next step refuses)
        return Played(self.last_obs, outcome.rewards, outcome.out, outcome.over, truncated,
                      outcome.values)

    def info(self) -> dict[str, Any]:
        """The episode's info as a one-agent env gives it: every variable, the episode's
        frame number and, with several starts, which one it began at."""
        info: dict[str, Any] = dict(self.values or {})
        info["episode_frame_number"] = self.episode_frame
        if len(self.starts) > 1:
            info["state"] = self.starts[self.start].name
        return info

    def player_lives(self) -> list[int | None]:
        """Each player's lives (None for a player whose rules have no lives variable)."""
        return self.match.player_lives(self.values or {})

    def _segments(self, held: list[tuple[Any, ...]], frames: int) -> list[Segment]:
        """The frames of one step (sticky actions per player, ALE v5 semantics)."""
        assert self._rng is not None
        self._move_opponent()
        segments, self.held = self.match.segments(
            self.emulator, self.held, held, frames, self.repeat_action_probability, self._rng)
        return segments

    def _move_opponent(self) -> None:
        """The integration's built-in opponent (one-player games only)."""
        opponent = self.game.opponent
        if opponent is None or self.values is None or self.num_players > 1:
            return
        target = opponent.scale * self.values[opponent.follow] + opponent.offset
        position = self.emulator.positions[opponent.input]
        limit = opponent.speed * self.frameskip
        position += max(-limit, min(limit, target - position))
        self.emulator.set_analog(opponent.input, round(position))

    def _frames_after_step(self, step: EmulatorStep, outcome: Outcome
                           ) -> tuple[EmulatorStep, Outcome]:
        """The rest of a step whose scenario has ``after_step`` rules: after each frame that
        did not end the episode, the rules; then the step's next frame. The rewards are
        the frames' sums; values and info are the last frame's, before its rules."""
        held, rest = self._rest
        totals = list(outcome.rewards)
        while True:
            if outcome.out[0] if self.num_players == 1 else outcome.over:
                break
            step = self._after_step(step)
            if rest == 0:
                break
            rest -= 1
            step = self.emulator.run(self._segments(held, 1),
                                     pixels=self.observer.wants_pixels,
                                     every_frame=self.game.scenario.every_frame)
            outcome = self.match.evaluate(step.frames, outcome.values)
            totals = [t + r for t, r in zip(totals, outcome.rewards, strict=True)]
        return step, replace(outcome, rewards=totals)

    def _after_step(self, step: EmulatorStep) -> EmulatorStep:
        """Play the scenario's ``after_step`` rules (see
        :class:`gym_mame.integration.scenario.AfterStep`) from the values ``step`` ended
        with; return the last step MAME ran (the one whose picture and RAM the observation
        shows)."""
        memory = self.game.memory
        for rule in self.game.scenario.after_step:
            values = step.values
            if rule.when is not None and not rule.when.evaluate(values, values):
                continue
            previous, frames = values, 0
            while True:
                if rule.loop is not None and not rule.loop.evaluate(values, previous):
                    break
                for address, byte in rule.write:
                    self.emulator.write_memory(*memory, address, bytes([byte]))
                count = rule.frames if rule.loop is None else 1
                if count:
                    previous = values
                    step = self.emulator.step((), count, pixels=self.observer.wants_pixels)
                    values = step.values
                    self.episode_frame += count
                frames += count
                if rule.loop is None:
                    break
                if frames >= rule.max_frames:
                    raise IntegrationError(
                        f"{self.game.name}: after_step rule \"while\": "
                        f"{rule.loop.text!r} still held after {frames} frames (max_frames)")
        return step

    # -- the episode as data (clone and restore) ------------------------------------
    def episode(self) -> dict[str, Any]:
        """The episode's bookkeeping, to go back to with :meth:`restore_episode`."""
        if self.values is None or self.interrupted:
            raise RuntimeError("clone_state() needs an episode: call reset() first")
        step = self.observer.step
        return {"held": list(self.held), "finished": list(self.finished),
                "values_prev": dict(self.values),
                "terminated": self.terminated, "steps": self.steps,
                "episode_frame": self.episode_frame, "start": self.start,
                "last_obs": copy.deepcopy(self.last_obs),
                "step": step.detached() if step is not None else None,
                "rendered": copy.deepcopy(self.observer.rendered)}

    def restore_episode(self, episode: Mapping[str, Any]) -> None:
        """Take up the bookkeeping :meth:`episode` gave (the machine restored apart)."""
        self.held = list(episode["held"])
        self.finished = list(episode.get("finished", [False] * self.num_players))
        self.values = dict(episode["values_prev"])
        self.terminated, self.steps = episode["terminated"], episode["steps"]
        self.episode_frame, self.start = episode["episode_frame"], episode["start"]
        self.interrupted = False
        self.last_obs = copy.deepcopy(episode["last_obs"])
        self.observer.step = episode["step"]
        self.observer.rendered = copy.deepcopy(episode["rendered"])


def _resolved(name: str, value: Any, defaults: Mapping[str, Any], unset: Any) -> Any:
    """Option ``name``: ``value``, or the integration's default when it is ``unset``;
    a default is checked as the option would be."""
    if not (value is None if unset is None else value == unset):
        return value
    value = defaults[name]
    if isinstance(value, str):
        raise ValueError(f"{name}: the integration's default is {value!r}")
    check(name, value)
    return value

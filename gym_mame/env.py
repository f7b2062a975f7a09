"""MameEnv: a game running in MAME as a Gymnasium environment."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any, ClassVar

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_mame import integration as integrations
from gym_mame.actions import ActionMapper
from gym_mame.bridge import MameBridge
from gym_mame.errors import IntegrationError, RomNotFoundError
from gym_mame.integration import Integration, MemoryVariable, StateVariable
from gym_mame.protocol import ItemRead, MemoryRead, StateRead, StepResult
from gym_mame.roms import find_cartridge, rom_paths

OBS_TYPES = ("rgb", "grayscale", "ram", "dict")
START_STATE = "start"


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
        frameskip: emulated frames per step, the action held throughout (default 4).
        repeat_action_probability: sticky actions as in ALE v5: on each frame the
            previous action is kept with this probability (default 0.0).
        action_type: ``"discrete"`` (the integration's button combinations, NOOP
            first), ``"multi_discrete"`` (one choice per action group) or
            ``"multi_binary"`` (one bit per button).
        full_action_space: use the integration's full action set (ALE's 18
            joystick actions on Atari 2600 games) instead of its minimal one.
        max_episode_steps: truncate episodes after this many steps (None: never).
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
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": 60}

    def __init__(
        self,
        game: str = "pong",
        render_mode: str | None = None,
        obs_type: str = "rgb",
        frameskip: int = 4,
        repeat_action_probability: float = 0.0,
        action_type: str = "discrete",
        full_action_space: bool = False,
        max_episode_steps: int | None = None,
        noop_max: int = 0,
        rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
        mame_path: str | os.PathLike[str] | None = None,
        obs_size: tuple[int, int] | None = None,
        transport: str = "ipc",
        timeout: float = 30.0,
        rebuild_start_state: bool = False,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, not {render_mode!r}")
        if obs_type not in OBS_TYPES:
            raise ValueError(f"obs_type must be one of {OBS_TYPES}, not {obs_type!r}")
        if not isinstance(frameskip, (int, np.integer)) or frameskip < 1:
            raise ValueError(f"frameskip must be a positive integer, not {frameskip!r}")
        if not 0.0 <= repeat_action_probability <= 1.0:
            raise ValueError("repeat_action_probability must be in [0, 1], "
                             f"not {repeat_action_probability!r}")
        if noop_max < 0:
            raise ValueError(f"noop_max must be >= 0, not {noop_max!r}")
        self._window = render_mode == "human" and bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if render_mode == "human" and not self._window:
            gym.logger.warn("render_mode='human' opens MAME's window, but there is no display "
                            "(DISPLAY is not set): running headless")
        self.game: Integration = integrations.load(game)
        self.render_mode = render_mode
        self.obs_type = obs_type
        self.frameskip = int(frameskip)
        self._frameskip = self.frameskip  # the name Gymnasium's AtariPreprocessing checks
        self.repeat_action_probability = float(repeat_action_probability)
        self.max_episode_steps = max_episode_steps
        self.noop_max = int(noop_max)
        if obs_type == "ram" and not self.game.ram:
            raise IntegrationError(f"{self.game.name} defines no RAM regions, so "
                                   "obs_type='ram' is not available; use 'rgb' or 'dict'")
        self._mapper = ActionMapper(self.game, action_type, full_action_space)
        self.action_space = self._mapper.space

        # Inputs in the order the bridge receives their values.
        self._inputs = list(self.game.inputs.values())
        self._input_index = {inp.name: i for i, inp in enumerate(self._inputs)}
        self._reads = self._plan_reads()
        self._analog: dict[str, float] = {i.name: i.initial for i in self._inputs if i.analog}
        self._obs_size = obs_size or self.game.obs_size
        self._last_rgb: np.ndarray | None = None
        self._last_bgra: memoryview | None = None
        self._last_size = (0, 0)
        self.ale = AleCompat(self)

        self._bridge = self._launch(rom_path, mame_path, transport, timeout)
        try:
            self._prepare_start_state(rebuild_start_state)
            self._bridge.load_state(START_STATE)
            first = self._run([(1, self._values(()))], want_pixels=True)
        except BaseException:
            self._bridge.close()
            raise
        self.observation_space = self._make_observation_space(first)
        self.metadata = {**self.metadata, "render_fps": self._refresh_rate() / self.frameskip}
        self._held: tuple[str, ...] = ()
        self._values_prev: dict[str, float] | None = None
        self._terminated = False
        self._steps = 0
        self._episode_frame = 0
        self._frame = 0

    # -- set-up ----------------------------------------------------------------
    def _launch(self, rom_path: Any, mame_path: Any, transport: str,
                timeout: float) -> MameBridge:
        paths = rom_paths(rom_path)
        media: dict[str, str] = dict(self.game.slots)
        if self.game.cartridge is not None:
            cart = self.game.cartridge
            media[cart.slot] = str(find_cartridge(cart, paths))
        try:
            bridge = MameBridge(self.game.machine, media=media, rom_paths=paths,
                                mame_path=mame_path, transport=transport,
                                headless=not self._window, throttle=self._window,
                                timeout=timeout)
        except RomNotFoundError as exc:
            if self.game.rom_set is None:
                raise
            raise RomNotFoundError(
                f"{self.game.env_id} needs the MAME ROM set {self.game.rom_set!r} "
                f"({self.game.title}), which was not found. Looked in: "
                f"{', '.join(str(p) for p in paths)}. Put {self.game.rom_set}.zip (and its "
                "parent set, if it is a clone) in a folder and pass rom_path='/that/folder' "
                "or set GYM_MAME_ROMPATH. gym_mame ships no commercial ROMs. "
                f"(MAME: {str(exc).split('. Searched')[0]}.)"
            ) from None
        try:
            bridge.configure(self.game.screen, [(i.port, i.field) for i in self._inputs],
                             self._reads)
            self.description = bridge.describe()
            self.mame_version = str(self.description["mame_version"]).split()[0]
        except BaseException:
            bridge.close()
            raise
        return bridge

    def _plan_reads(self) -> list[MemoryRead | StateRead | ItemRead]:
        """What each step reads: RAM regions, then memory variables outside them, then
        state entries. Each memory variable gets the offsets of its bytes in the reply."""
        reads: list[MemoryRead | StateRead | ItemRead] = []
        self._ram_bytes = 0
        regions = []
        for device, space, start, length in self.game.ram:
            reads.append(MemoryRead(device, space, start, length))
            regions.append((device, space, start, length, self._ram_bytes))
            self._ram_bytes += length
        offset = self._ram_bytes

        def in_ram(var: MemoryVariable, address: int) -> int | None:
            for device, space, start, length, first in regions:
                if (device, space) == (var.device, var.space) and start <= address < start + length:
                    return first + address - start
            return None

        self._memory_vars: list[tuple[MemoryVariable, slice | list[int]]] = []
        for var in self.game.variables.values():
            if not isinstance(var, MemoryVariable):
                continue
            offsets = [in_ram(var, a) for a in var.addresses]
            if None in offsets and var.contiguous:
                reads.append(MemoryRead(var.device, var.space, var.address, len(offsets)))
                offsets = list(range(offset, offset + len(offsets)))
                offset += len(offsets)
            for i, address in enumerate(var.addresses):
                if offsets[i] is None:
                    reads.append(MemoryRead(var.device, var.space, address, 1))
                    offsets[i] = offset
                    offset += 1
            where = [o for o in offsets if o is not None]
            if where == list(range(where[0], where[0] + len(where))):
                self._memory_vars.append((var, slice(where[0], where[0] + len(where))))
            else:
                self._memory_vars.append((var, where))
        self._state_vars: list[tuple[StateVariable, int]] = []
        first = 0
        for var in self.game.variables.values():
            if isinstance(var, StateVariable):
                kind = ItemRead if var.items else StateRead
                reads += [kind(var.device, name) for name in var.entries]
                self._state_vars.append((var, first))
                first += len(var.entries)
        return reads

    def _prepare_start_state(self, rebuild: bool) -> None:
        """Put the start state where MAME loads it from: the shipped file when it was
        made by this MAME version, else replay the integration's boot sequence."""
        shipped = self.game.start_state
        target = self._bridge.state_path(START_STATE)
        version_ok = self.game.start_state_mame in (None, self.mame_version)
        if shipped is not None and shipped.is_file() and version_ok and not rebuild:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shipped, target)
            return
        if not self.game.boot:
            raise IntegrationError(
                f"{self.game.name}: start state {shipped} "
                + ("is missing" if shipped is None or not shipped.is_file() else
                   f"was made by MAME {self.game.start_state_mame}, this is {self.mame_version}")
                + " and metadata.json has no \"boot\" sequence to rebuild it"
            )
        self.run_boot_sequence()
        self._bridge.save_state(START_STATE)
        self._run([(1, self._values(()))], want_pixels=False)  # the save happens here

    def run_boot_sequence(self) -> None:
        """Play the integration's ``start.boot`` steps from the current state."""
        memory = self.game.memory
        for step in self.game.boot:
            for address, byte in step.write:
                self._bridge.write_memory(*memory, address, bytes([byte]))
            values = self._values(())
            for name in step.press:
                values[self._input_index[name]] = 1
            for name, value in step.set:
                values[self._input_index[name]] = value
            self._run([(step.frames, values)], want_pixels=False)

    def _make_observation_space(self, first: StepResult) -> spaces.Space[Any]:
        frame = self._observe_frame()
        if self.obs_type == "grayscale":
            frame_space = spaces.Box(0, 255, (*frame.shape[:2], 1), np.uint8)
        else:
            frame_space = spaces.Box(0, 255, frame.shape, np.uint8)
        if self.obs_type in ("rgb", "grayscale"):
            return frame_space
        if self.obs_type == "ram":
            return spaces.Box(0, 255, (self._ram_bytes,), np.uint8)
        members: dict[str, spaces.Space[Any]] = {"frame": frame_space}
        for name, var in self.game.variables.items():
            low, high = var.bounds
            members[name] = spaces.Box(low, high, (1,), np.int64)
        for derived in self.game.scenario.derived:  # computed values: no known bounds
            members[derived.name] = spaces.Box(-np.inf, np.inf, (1,), np.float64)
        return spaces.Dict(members)

    def _refresh_rate(self) -> float:
        """Frames per emulated second of the integration's screen (or the first one)."""
        if self.game.render_fps:
            return self.game.render_fps
        screens = self.description["screens"]
        for screen in screens:
            if screen["tag"] == self.game.screen or not self.game.screen:
                return float(screen["refresh"])
        return 60.0

    # -- the per-step path -----------------------------------------------------
    def _values(self, held: tuple[str, ...], frames: int = 0) -> list[int]:
        """Input values for a segment of ``frames`` frames with ``held`` buttons."""
        values = [round(self._analog[inp.name]) if inp.analog else 0 for inp in self._inputs]
        for button in held:
            nudge = self.game.nudges.get(button)
            if nudge is None:
                values[self._input_index[button]] = 1
            else:
                target = self.game.inputs[nudge.target]
                position = self._analog[nudge.target] + nudge.speed * frames
                self._analog[nudge.target] = min(max(position, target.low), target.high)
                values[self._input_index[nudge.target]] = round(self._analog[nudge.target])
        return values

    def _hold(self, held: tuple[str, ...], frames: int) -> list[tuple[int, list[int]]]:
        """Segments holding ``held`` for ``frames`` frames: one per frame while a nudge
        turns a knob, so it moves a little each frame (as ALE's paddles do)."""
        if any(self.game.nudges[b].speed for b in held if b in self.game.nudges):
            return [(1, self._values(held, 1)) for _ in range(frames)]
        return [(frames, self._values(held, frames))]

    def _run(self, segments: list[tuple[int, list[int]]], want_pixels: bool = True,
             every_frame: bool = False) -> StepResult:
        result = self._bridge.step(segments, want_pixels=want_pixels, want_reads=True,
                                   every_frame=every_frame)
        if result.pixels is not None:
            self._last_bgra, self._last_size = result.pixels, (result.height, result.width)
        return result

    def _segments(self, held: tuple[str, ...]) -> list[tuple[int, list[int]]]:
        """The frames of one step: with sticky actions, the previous buttons stay held
        for a random number of leading frames (ALE v5 semantics)."""
        sticky = 0
        p = self.repeat_action_probability
        if p > 0 and held != self._held:
            while sticky < self.frameskip and self.np_random.random() < p:
                sticky += 1
        self._move_opponent()
        segments = self._hold(self._held, sticky) if sticky else []
        if sticky < self.frameskip:
            segments += self._hold(held, self.frameskip - sticky)
            self._held = held
        return segments

    def _move_opponent(self) -> None:
        opponent = self.game.opponent
        if opponent is None or self._values_prev is None:
            return
        target = opponent.scale * self._values_prev[opponent.follow] + opponent.offset
        position = self._analog[opponent.input]
        limit = opponent.speed * self.frameskip
        position += max(-limit, min(limit, target - position))
        spec = self.game.inputs[opponent.input]
        self._analog[opponent.input] = round(min(max(position, spec.low), spec.high))

    def _variables(self, memory: memoryview, state: tuple[float, ...]) -> dict[str, int]:
        values = {var.name: var.decode(memory[where] if isinstance(where, slice)
                                       else bytes(memory[o] for o in where))
                  for var, where in self._memory_vars}
        for var, first in self._state_vars:
            values[var.name] = var.decode(state[first:first + len(var.entries)])
        return values

    def _screen(self, grayscale: bool, resize: bool = True) -> np.ndarray:
        """The last frame after the integration's crop (and obs_size), RGB or gray (H x W)."""
        if self._last_bgra is None:
            raise RuntimeError("no frame yet: with obs_type='ram' the env does not fetch "
                               "frames unless render_mode='rgb_array'")
        bgra = np.frombuffer(self._last_bgra, np.uint8).reshape(*self._last_size, 4)
        if self.game.crop is not None:
            x, y, w, h = self.game.crop
            bgra = bgra[y:y + h if h else None, x:x + w if w else None]
        frame = cv2.cvtColor(bgra, cv2.COLOR_BGRA2GRAY if grayscale else cv2.COLOR_BGRA2RGB)
        size = self._obs_size
        if resize and size is not None and frame.shape[:2] != tuple(size):
            frame = cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        return frame

    def _display(self, frame: np.ndarray) -> np.ndarray:
        """The frame as a person should see it: the integration's ``display_aspect``,
        keeping the frame's lines (a TTL game's 1552x240 frame is 4:3 on its monitor)."""
        aspect = self.game.display_aspect
        if aspect is None:
            return frame
        height, width = frame.shape[:2]
        # An even width, so that video encoders (4:2:0) take the frame unchanged.
        shown = max(2, 2 * round(height * aspect / 2))
        if shown == width:
            return frame
        return cv2.resize(frame, (shown, height), interpolation=cv2.INTER_AREA)

    def _observe_frame(self) -> np.ndarray:
        gray = self.obs_type == "grayscale"
        if self.render_mode == "rgb_array":
            self._last_rgb = self._display(self._screen(grayscale=False, resize=False))
        frame = self._screen(gray)
        return frame[:, :, None] if gray else frame

    def _observe(self, memory: memoryview, values: dict[str, float]) -> Any:
        if self.obs_type == "ram":
            if self.render_mode == "rgb_array":
                self._observe_frame()
            return np.frombuffer(memory[:self._ram_bytes], np.uint8).copy()
        frame = self._observe_frame()
        if self.obs_type != "dict":
            return frame
        obs = {"frame": frame}
        for name, value in values.items():
            obs[name] = np.array([value], self.observation_space[name].dtype)
        return obs

    def _info(self, values: dict[str, float]) -> dict[str, Any]:
        info: dict[str, Any] = dict(values)
        info["episode_frame_number"] = self._episode_frame
        return info

    # -- Gymnasium API ---------------------------------------------------------
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Load the start state, run optional seeded no-op steps, return the first frame."""
        super().reset(seed=seed)
        self._analog = {i.name: i.initial for i in self._inputs if i.analog}
        self._held = ()
        self._values_prev = None
        self._steps = 0
        self._bridge.load_state(START_STATE)
        noops = int(self.np_random.integers(0, self.noop_max + 1)) if self.noop_max else 0
        # MAME applies the load just after a frame callback, so the next frames may still
        # show the picture from before it (two frames in pong): the third is clean.
        frames = 3 + noops * self.frameskip
        result = self._run([(frames, self._values(()))], want_pixels=self._want_pixels)
        self._episode_frame = frames
        self._terminated = False
        values = self.game.scenario.start(self._variables(result.memory, result.state))
        self._values_prev = values
        return self._observe(result.memory, values), self._info(values)

    @property
    def _want_pixels(self) -> bool:
        return self.obs_type != "ram" or self.render_mode == "rgb_array"

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self._values_prev is None:
            raise RuntimeError("call reset() before step()")
        held = self._mapper.held(action)
        scenario = self.game.scenario
        result = self._run(self._segments(held), want_pixels=self._want_pixels,
                           every_frame=scenario.every_frame)
        self._steps += 1
        # Evaluate after each frame (every_frame) or once; like ALE, nothing after the
        # first terminal frame counts (its remaining frames of the step were still run).
        reward, terminated = 0.0, False
        frames = result.frames or ((result.memory, result.state),)
        values, previous, memory = self._values_prev, self._values_prev, result.memory
        for memory, state in frames:
            values = scenario.derive(self._variables(memory, state), previous)
            reward += scenario.reward(values, previous)
            terminated = scenario.done(values, previous)
            previous = values
            if terminated:
                break
        self._episode_frame += self.frameskip
        self._terminated = terminated
        truncated = self.max_episode_steps is not None and self._steps >= self.max_episode_steps
        self._values_prev = values
        return self._observe(memory, values), reward, terminated, truncated, self._info(values)

    def render(self) -> np.ndarray | None:
        """The last frame as RGB, as a person should see it (``rgb_array``): the integration's
        crop at its ``display_aspect``, not resized to ``obs_size``. With ``human``, MAME draws
        its own window and this returns None."""
        if self.render_mode == "rgb_array":
            return self._last_rgb
        return None

    def close(self) -> None:
        """Stop MAME. Safe to call more than once."""
        bridge = getattr(self, "_bridge", None)
        if bridge is not None:
            bridge.close()

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
        """The integration's RAM regions, read now."""
        data = b"".join(self._bridge.read_memory(d, s, a, n) for d, s, a, n in self.game.ram)
        return np.frombuffer(data, np.uint8).copy()

    def save_state(self, path: str | os.PathLike[str]) -> None:
        """Save the machine state to ``path`` (MAME's format; runs one frame to write it)."""
        self._bridge.save_state("user")
        self._run([(1, self._values(self._held, 1))], want_pixels=False)
        shutil.copyfile(self._bridge.state_path("user"), path)

    @property
    def bridge(self) -> MameBridge:
        """The MAME process behind this env (memory access, raw stepping)."""
        return self._bridge


class AleCompat:
    """The part of ale-py's ``ALEInterface`` that Atari wrappers call, as
    ``env.unwrapped.ale``: Gymnasium's ``AtariPreprocessing`` and
    Stable-Baselines3's ``AtariWrapper`` use ``lives()`` and the screen getters.
    Screens are the observation's frame (crop and ``obs_size`` applied)."""

    def __init__(self, env: MameEnv) -> None:
        self._env = env

    def lives(self) -> int:
        return self._env.lives()

    def game_over(self) -> bool:
        return self._env.game_over()

    def getRAM(self) -> np.ndarray:
        return self._env.get_ram()

    def getScreenRGB(self, screen_data: np.ndarray | None = None) -> np.ndarray:
        return self._fill(self._env._screen(grayscale=False), screen_data)

    def getScreenGrayscale(self, screen_data: np.ndarray | None = None) -> np.ndarray:
        return self._fill(self._env._screen(grayscale=True), screen_data)

    @staticmethod
    def _fill(frame: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        if out is None:
            return frame
        out[...] = frame.reshape(out.shape)
        return out

"""What an agent sees of a step: the frame (RGB or gray, cropped and resized), the RAM,
or every variable beside the frame; and what ``render()`` shows a person."""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
from gymnasium import spaces

from gym_mame.integration.intervals import Interval
from gym_mame.runtime import frames as framing
from gym_mame.runtime.emulator import Emulator, EmulatorStep

ObsType = Literal["rgb", "grayscale", "ram", "dict"]
OBS_TYPES: tuple[str, ...] = get_args(ObsType)


class Observer:
    """Observations of ``emulator``'s steps as ``obs_type`` (see :data:`OBS_TYPES`),
    frames resized to ``obs_size`` ``(height, width)``; ``render`` keeps the last frame as
    a person should see it (the integration's crop at its display aspect)."""

    def __init__(self, emulator: Emulator, obs_type: str, obs_size: tuple[int, int] | None,
                 render: bool) -> None:
        self.emulator = emulator
        self.game = emulator.game
        self.obs_type = obs_type
        self.obs_size = obs_size
        self.render = render
        self.step: EmulatorStep | None = None
        self.rendered: np.ndarray | None = None
        self.space: spaces.Space[Any] = spaces.Box(0, 255, (1,), np.uint8)

    @property
    def wants_pixels(self) -> bool:
        return self.obs_type != "ram" or self.render

    def make_space(self, first: EmulatorStep) -> spaces.Space[Any]:
        """The observation space, from a first step (the frame's size)."""
        self.step = first
        frame = self._frame()
        if self.obs_type == "grayscale":
            frame_space = spaces.Box(0, 255, (*frame.shape[:2], 1), np.uint8)
        else:
            frame_space = spaces.Box(0, 255, frame.shape, np.uint8)
        if self.obs_type in ("rgb", "grayscale"):
            self.space = frame_space
        elif self.obs_type == "ram":
            self.space = spaces.Box(0, 255, (self.emulator.ram_size,), np.uint8)
        else:
            members: dict[str, spaces.Space[Any]] = {"frame": frame_space}
            ranges = self.emulator.variable_ranges()
            for name, (low, high) in ranges.items():
                members[name] = spaces.Box(_int64(low), _int64(high), (1,), np.int64)
            derived = self.game.scenario.derived_ranges(
                {name: Interval(low, high) for name, (low, high) in ranges.items()})
            for name, values in derived.items():
                members[name] = spaces.Box(float(values.low), float(values.high), (1,),
                                           np.float64)
            self.space = spaces.Dict(members)
        return self.space

    def screen(self, grayscale: bool, resize: bool = True,
               out: np.ndarray | None = None) -> np.ndarray:
        """The last frame after the integration's crop (and obs_size), RGB or gray (H x W)."""
        step = self.step
        if step is None or step.pixels is None:
            raise RuntimeError("no frame yet: with obs_type='ram' the env does not fetch "
                               "frames unless render_mode='rgb_array'")
        return framing.convert(step.bgra(), self.game.crop, grayscale,
                               self.obs_size if resize else None, out)

    def _frame(self, out: np.ndarray | None = None) -> np.ndarray:
        gray = self.obs_type == "grayscale"
        if self.render:
            self.rendered = framing.at_aspect(self.screen(grayscale=False, resize=False),
                                              self.game.display_aspect)
        if out is not None:
            self.screen(gray, out=out[:, :, 0] if gray else out)
            return out
        frame = self.screen(gray)
        return frame[:, :, None] if gray else frame

    def observe(self, step: EmulatorStep, ram: memoryview, values: dict[str, float],
                out: Any = None) -> Any:
        """The observation of ``step`` (``ram``: the reads of the frame it shows); written
        into ``out`` (arrays shaped as the space) if given."""
        self.step = step
        if self.obs_type == "ram":
            if self.render:
                self._frame()
            if out is not None:
                out[...] = np.frombuffer(ram, np.uint8)
                return out
            return np.frombuffer(ram, np.uint8).copy()
        if self.obs_type != "dict":
            return self._frame(out)
        if out is None:
            out = {name: np.empty(space.shape, space.dtype)
                   for name, space in self.space.spaces.items()}
        self._frame(out["frame"])
        for name, value in values.items():
            out[name][0] = value
        return out


def _int64(value: float) -> int:
    """A bound as an int64 Box takes it: unbounded sides at the dtype's limits."""
    info = np.iinfo(np.int64)
    return int(min(max(value, info.min), info.max))

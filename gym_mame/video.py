"""Writing frames to an MP4 file with OpenCV (already a dependency)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from gym_mame.errors import GymMameError


class VideoWriter:
    """Collects RGB frames into ``path``; the size is fixed by the first frame."""

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        self.path = str(path)
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def add(self, frame: np.ndarray | None) -> None:
        if frame is None:
            return
        height, width = frame.shape[:2]
        if self._writer is None:
            self._size = (width, height)
            self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*"mp4v"),
                                           self.fps, self._size)
            if not self._writer.isOpened():
                raise GymMameError(f"cannot write video {self.path}: OpenCV has no MP4 encoder "
                                   "here, or the folder is not writable")
        if (width, height) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        if frame.ndim == 2 or frame.shape[2] == 1:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        else:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        self._writer.write(frame)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

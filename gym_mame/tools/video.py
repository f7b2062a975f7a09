"""Writing frames to an H.264 MP4 file that browsers, Jupyter and phones play.

The encoder is the ffmpeg executable that imageio-ffmpeg ships in its wheel (the
``video`` extra): OpenCV's own writer only offers MPEG-4 Part 2 (``mp4v``), which
browsers do not play. Frames are piped to ffmpeg as raw RGB and encoded as H.264,
4:2:0 (``yuv420p``, the only chroma format every browser decodes), with the index at the
start of the file (``+faststart``) so a browser can play it while it loads.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from gym_mame.errors import GymMameError, MissingExtraError

INSTALL_VIDEO = 'pip install "gym_mame[video]"'


def ffmpeg_exe() -> str:
    """The ffmpeg executable bundled with imageio-ffmpeg; a clear error without it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingExtraError("writing a video needs imageio-ffmpeg (its bundled ffmpeg "
                                f"encodes H.264), which is not installed: {INSTALL_VIDEO}"
                                ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


class VideoWriter:
    """Collects RGB (or grayscale) frames into an H.264 MP4 file at ``path``.

    The size is fixed by the first frame; later frames of another size are resized to it.
    An odd width or height gets one more column or row (a copy of the last one), because
    4:2:0 video needs even dimensions."""

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        self.path = str(path)
        self.fps = float(fps)
        self.frames = 0
        self._exe = ffmpeg_exe()  # fail before any emulation starts
        folder = Path(self.path).resolve().parent
        if not folder.is_dir():
            raise GymMameError(f"cannot write video {self.path}: folder {folder} does not exist")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()
        self._size: tuple[int, int] | None = None  # width, height of the frames given

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, width: int, height: int) -> None:
        even_w, even_h = width + width % 2, height + height % 2
        rate = Fraction(self.fps).limit_denominator(1001)  # 59.94 stays exact
        cmd = [self._exe, "-y", "-hide_banner", "-loglevel", "error",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{even_w}x{even_h}",
               "-r", str(rate), "-i", "-", "-an",
               # crf 18: game pictures have sharp edges that the default (23) smears.
               "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", self.path]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=self._log)
        self._size = (width, height)

    def _failure(self) -> GymMameError:
        self._log.seek(0)
        said = self._log.read().decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else "no message"
        return GymMameError(f"cannot write video {self.path}: ffmpeg stopped ({reason})")

    def add(self, frame: np.ndarray | None) -> None:
        """Append one frame (H x W x 3 RGB, H x W x 1 or H x W gray, uint8); None is ignored."""
        if frame is None:
            return
        height, width = frame.shape[:2]
        if self._proc is None:
            self._start(width, height)
        assert self._size is not None and self._proc is not None and self._proc.stdin
        if (width, height) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        if frame.ndim == 2 or frame.shape[2] == 1:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        w, h = self._size
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
        except BrokenPipeError:
            proc, self._proc = self._proc, None
            proc.wait()
            raise self._failure() from None
        self.frames += 1

    def close(self) -> None:
        """Finish the file. Safe to call more than once."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                assert proc.stdin is not None
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                if proc.wait() != 0:
                    raise self._failure()
        finally:
            if not self._log.closed:
                self._log.close()

"""Probing video files with imageio-ffmpeg's own ffmpeg (shared by the video tests)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np


def probe(path: Path) -> dict[str, object]:
    """Codec, pixel format, size and frame count of a video's first stream."""
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)
    stream = re.search(r"Stream #0:0.*?Video: (\w+).*?, (\w+)\(?.*?, (\d+)x(\d+)", out.stderr)
    assert stream, out.stderr
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return {"codec": stream[1], "pix_fmt": stream[2],
            "size": (int(stream[3]), int(stream[4])), "frames": frames}


def read_frames(path: Path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(b, np.uint8).reshape(height, width, 3) for b in reader]

"""MAME's pixels as images: BGRA bytes to RGB or grayscale, cropped and resized."""

from __future__ import annotations

import cv2
import numpy as np

Crop = tuple[int, int, int, int]  # x, y, width, height (0: to the edge)


def bgra_array(pixels: memoryview | bytes, height: int, width: int) -> np.ndarray:
    """A view of MAME's ``screen:pixels()`` bytes as an H x W x 4 array (B, G, R, A)."""
    return np.frombuffer(pixels, np.uint8).reshape(height, width, 4)


def check_crop(crop: Crop | None, height: int, width: int) -> None:
    """ValueError unless ``crop`` lies inside a ``height`` x ``width`` frame."""
    if crop is None:
        return
    x, y, w, h = crop
    if x >= width or y >= height or x + w > width or y + h > height:
        raise ValueError(f"crop [x={x}, y={y}, width={w}, height={h}] does not fit the "
                         f"{width}x{height} frame")


def convert(bgra: np.ndarray, crop: Crop | None, grayscale: bool,
            size: tuple[int, int] | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Crop, convert to RGB (H x W x 3) or gray (H x W), and resize to ``size``
    ``(height, width)`` with area averaging (the right filter for shrinking). With
    ``out`` (e.g. a vector env's row of its batch), the result is written there."""
    if crop is not None:
        x, y, w, h = crop
        bgra = bgra[y:y + h if h else None, x:x + w if w else None]
    code = cv2.COLOR_BGRA2GRAY if grayscale else cv2.COLOR_BGRA2RGB
    if size is None or bgra.shape[:2] == tuple(size):
        return cv2.cvtColor(bgra, code, dst=out)
    frame = cv2.cvtColor(bgra, code)
    return cv2.resize(frame, (size[1], size[0]), dst=out, interpolation=cv2.INTER_AREA)


def at_aspect(frame: np.ndarray, aspect: float | None) -> np.ndarray:
    """The frame as a person should see it: resized to width = height x ``aspect``,
    keeping its lines (a TTL game's 1552x240 frame is 4:3 on its monitor). The width
    is even, so that video encoders (4:2:0) take the frame unchanged. None: as it is."""
    if aspect is None:
        return frame
    height, width = frame.shape[:2]
    shown = max(2, 2 * round(height * aspect / 2))
    if shown == width:
        return frame
    return cv2.resize(frame, (shown, height), interpolation=cv2.INTER_AREA)

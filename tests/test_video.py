"""Videos people can play: H.264 in 4:2:0, from gym-mame's writer and from Gymnasium's
RecordVideo around a real env. Files are probed with imageio-ffmpeg's own ffmpeg."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo
from video_probe import probe, read_frames

import gym_mame
from gym_mame.tools.video import VideoWriter


@pytest.mark.pure
def test_writer_makes_h264_with_every_frame_and_even_size(tmp_path: Path) -> None:
    path = tmp_path / "bars.mp4"
    written = []
    with VideoWriter(path, fps=15) as writer:
        for i in range(24):
            frame = np.zeros((211, 161, 3), np.uint8)  # odd: 4:2:0 needs even sizes
            frame[:, : 6 * i] = (200, 40, 20)
            writer.add(frame)
            written.append(frame)
        writer.add(np.full((50, 50), 90, np.uint8))  # gray, another size: resized
    assert writer.frames == 25
    info = probe(path)
    assert info == {"codec": "h264", "pix_fmt": "yuv420p", "size": (162, 212), "frames": 25}
    back = read_frames(path)
    for got, want in zip(back, written, strict=False):
        error = np.abs(got[:211, :161].astype(int) - want).mean()
        assert error < 4, error  # the picture survives encoding, the padding is extra
    assert abs(int(back[-1].mean()) - 90) < 4


@pytest.mark.pure
def test_writer_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    try:
        VideoWriter(tmp_path / "no" / "such.mp4", fps=15)
    except gym_mame.GymMameError as exc:
        assert "does not exist" in str(exc) and str(tmp_path / "no") in str(exc)
    else:
        raise AssertionError("no error for a missing folder")


def test_record_video_wrapper_writes_playable_h264_of_pong_at_4_to_3(tmp_path: Path) -> None:
    env = RecordVideo(gym.make("Mame/pong-v0", render_mode="rgb_array"), str(tmp_path / "v"),
                      episode_trigger=lambda episode: True, disable_logger=True)
    try:
        env.reset(seed=0)
        for _ in range(30):
            env.step(env.action_space.sample())
    finally:
        env.close()  # RecordVideo writes the file when recording stops
    videos = list((tmp_path / "v").glob("*.mp4"))
    assert len(videos) == 1
    info = probe(videos[0])
    assert info == {"codec": "h264", "pix_fmt": "yuv420p", "size": (320, 240), "frames": 31}


@pytest.mark.pure
def test_record_without_imageio_ffmpeg_is_one_line_saying_what_to_install(
        tmp_path: Path) -> None:
    blocker = tmp_path / "blocked" / "imageio_ffmpeg"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    env = dict(os.environ, PYTHONPATH=str(blocker.parent))
    out = subprocess.run([sys.executable, "-m", "gym_mame", "run", "--record",
                          str(tmp_path / "x.mp4"), "--max-steps", "5", "--quiet"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert 'pip install "gym_mame[video]"' in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.mp4").exists()

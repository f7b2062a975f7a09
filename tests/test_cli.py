"""The gym-mame command, run as a user would."""

import subprocess
import sys

from video_probe import probe, read_frames


def gym_mame(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gym_mame", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_list_shows_every_integration_and_what_it_needs() -> None:
    out = gym_mame("list")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("Mame/")}
    assert "not needed" in lines["Mame/pong-v0"] and " yes " in lines["Mame/pong-v0"]
    assert "found" in lines["Mame/a2600-breakout-v0"]
    assert "missing" in lines["Mame/sfiii3n-v0"] and "not verified" in lines["Mame/sfiii3n-v0"]


def test_run_prints_returns_and_speed_and_records_video(tmp_path) -> None:
    video = tmp_path / "run.mp4"
    out = gym_mame("run", "--env", "a2600-breakout", "--max-steps", "40", "--quiet",
                   "--record", str(video))
    assert out.returncode == 0, out.stderr
    assert "episode 1: return" in out.stdout and "steps/s" in out.stdout
    assert "video written to" in out.stdout
    # H.264 in 4:2:0, the reset frame + 40 steps, at ALE's 210x160
    assert probe(video) == {"codec": "h264", "pix_fmt": "yuv420p", "size": (160, 210),
                            "frames": 41}
    first = read_frames(video)[0]
    assert first.mean() > 5  # Breakout's walls and bricks, not a black frame


def test_errors_are_one_clear_line_not_a_traceback(tmp_path) -> None:
    out = gym_mame("run", "--env", "sfiii3n", "--rom-path", str(tmp_path))
    assert out.returncode == 1
    assert "RomNotFoundError" in out.stderr and "Traceback" not in out.stderr

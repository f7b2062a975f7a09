"""examples/ppo.py, the reference training script of docs/learning.md, on TTL Pong (no ROM):
its features read the real env, and a short run writes what the doc's commands use."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import gym_mame  # noqa: F401

pytest.importorskip("torch", reason="examples/ppo.py needs torch (the test extra has it)")
pytest.importorskip("torch.utils.tensorboard", reason="examples/ppo.py logs to TensorBoard")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import ppo  # noqa: E402


def test_pong_features_give_each_paddle_against_the_ball():
    envs = ppo.PongFeatures(gym.make_vec("Mame/pong-v0", num_envs=2, obs_type="dict",
                                         frameskip=2))
    try:
        obs, _ = envs.reset(seed=0)
        rule = envs.rule
        for _ in range(40):
            assert obs.shape == (2, 9) and np.all(np.abs(obs) <= 1)
            raw = envs.env.unwrapped  # the dict observations' env: its emulators
            for i, env in enumerate(raw.envs):
                paddle = env.emulator.positions["PADDLE"]
                assert obs[i, 6] == pytest.approx(paddle / 255, abs=1e-6)
                # the paddle's standing against the ball: the ball's height in paddle units
                # (feature 1 holds its vertical counter / 255) minus the paddle's, over 32
                centre = rule.scale * obs[i, 1] * 255 + rule.offset
                assert obs[i, 4] == pytest.approx(np.clip((centre - paddle) / 32, -1, 1),
                                                  abs=1e-4)
            obs, *_ = envs.step(np.array([1, 2]))  # UP on one, DOWN on the other
        ours = [env.emulator.positions["PADDLE"] for env in envs.env.unwrapped.envs]
        assert ours[0] > 128 > ours[1]  # UP raised the paddle's value, DOWN lowered it
    finally:
        envs.close()


def test_a_short_pong_run_writes_episodes_logs_and_a_checkpoint(tmp_path: Path):
    command = [sys.executable, str(EXAMPLES / "ppo.py"), "--game", "pong-ttl", "--frameskip",
               "2", "--num-envs", "2", "--num-steps", "64", "--frames", "3072",
               "--return-bonus", "0.1", "--bonus-fade-frames", "1024", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run = tmp_path / "pong-ttl_mame_seed1"
    with (run / "episodes.csv").open() as f:
        assert next(csv.reader(f)) == ["frames", "return", "length", "seconds"]
    assert (run / "checkpoint.pt").stat().st_size > 0
    assert list(run.glob("events.out.tfevents.*"))
    assert "3072 frames" in done.stdout  # 12 updates of 2 x 64 steps of 2 frames
    kept = run / "checkpoints" / "0000003072.pt"  # each save kept, named by its frames
    assert kept.stat().st_size > 0

    # examples/evaluate.py plays the kept checkpoint for one whole game (to 11 points)
    command = [sys.executable, str(EXAMPLES / "evaluate.py"), str(kept), "--games", "1",
               "--num-envs", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    row = done.stdout.strip().splitlines()[-1].split("|")
    assert row[1].strip() == "0000003072.pt" and row[2].strip() == "3,072"
    won, lost, cut = row[3].strip(), int(row[4]), int(row[5])
    assert won in ("0 of 1", "1 of 1") and cut == 0 and lost == (won == "0 of 1")
    ret, steps = float(row[6]), float(row[9].replace(",", ""))
    assert -11 <= ret <= 11 and ret != 0  # a game ends when one side has 11 points
    assert steps > 11 * 20  # eleven points at least, each a serve and a crossing

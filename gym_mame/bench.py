"""Benchmark: env speed against raw MAME speed of the same machine, in one run.

Raw speed is MAME's own ``-str`` (seconds_to_run) figure with no Lua at all:
``Average speed: X%`` of real time, times the screen's refresh rate, gives
emulated frames per second. The env runs ``steps`` random steps at
``frameskip`` with RGB observations; its emulated frames per second over the
raw figure is the share of raw speed the bridge keeps. Raw and env runs
alternate and each figure is the median of ``repeats``, because shared machines
are noisy. For Atari 2600 games whose cartridge comes from ale-py, the same
random steps are also timed in the Arcade Learning Environment (RGB, frameskip
4, no sticky actions) in the same repeats. Finally the CPU use of a MAME whose
agent is idle is measured.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time

import gymnasium as gym

from gym_mame.bridge import find_mame
from gym_mame.integration import Integration


def raw_fps(machine: str, media: dict[str, str], refresh: float, seconds: float) -> float:
    """Emulated frames/s of MAME alone running ``machine`` for ``seconds`` emulated seconds."""
    with tempfile.TemporaryDirectory(prefix="gym_mame-bench-") as wd:
        cmd = [find_mame(), machine, "-str", str(seconds), "-nothrottle", "-video", "none",
               "-sound", "none", "-noreadconfig", "-skip_gameinfo", "-homepath", wd,
               "-cfg_directory", wd, "-nvram_directory", wd, "-state_directory", wd,
               "-snapshot_directory", wd]
        for option, value in media.items():
            cmd += [f"-{option}", value]
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    match = re.search(r"Average speed:\s*([\d.]+)%", out.stdout + out.stderr)
    if not match:
        raise RuntimeError(f"MAME printed no speed for {machine}: {out.stderr[-500:]}")
    return float(match.group(1)) / 100.0 * refresh


def env_fps(env: gym.Env, steps: int, frameskip: int, seed: int) -> tuple[float, float]:
    """Steps/s and emulated frames/s of ``steps`` random steps."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    return steps / elapsed, steps * frameskip / elapsed


def idle_cpu(env: gym.Env, seconds: float = 2.0) -> float:
    """Percent of one core MAME uses while the agent does nothing."""
    pid = env.unwrapped.bridge.proc.pid
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    time.sleep(1.0)  # let start-up threads finish
    before = cpu()
    time.sleep(seconds)
    return 100.0 * (cpu() - before) / seconds


def ale_env(game: Integration, frameskip: int) -> gym.Env | None:
    """ALE's env for the same cartridge, or None (not an ale-py cartridge, or no ale-py)."""
    cart = game.cartridge
    if cart is None or cart.package != "ale_py":
        return None
    try:
        from ale_py.env import AtariEnv
    except ImportError:
        return None
    return AtariEnv(game=cart.file.removesuffix(".bin"), obs_type="rgb", frameskip=frameskip,
                    repeat_action_probability=0.0)


def run_benchmark(env_ids: list[str], steps: int = 1000, repeats: int = 3,
                  frameskip: int = 4, seconds: float = 20) -> list[dict[str, float]]:
    import gym_mame  # noqa: F401

    rows = []
    print(f"frameskip {frameskip}, RGB observations, {steps} random steps x {repeats} "
          f"repeats; raw = MAME -str {seconds:g} with no Lua")
    header = (f"{'env':<26} {'raw fps':>8} {'env fps':>8} {'steps/s':>8} "
              f"{'ratio':>6} {'idle CPU':>8} {'ALE steps/s':>11} {'vs ALE':>7}")
    print(header)
    for env_id in env_ids:
        env = gym.make(env_id, frameskip=frameskip, obs_type="rgb")
        game = env.unwrapped.game
        media = dict(env.unwrapped.bridge.media)
        refresh = env.unwrapped.metadata["render_fps"] * frameskip
        ale = ale_env(game, frameskip)
        raws, fpss, spss, ratios, ales, vs_ale = [], [], [], [], [], []
        try:
            for i in range(repeats):
                raw = raw_fps(game.machine, media, refresh, seconds)
                sps, fps = env_fps(env, steps, frameskip, seed=i)
                raws.append(raw)
                fpss.append(fps)
                spss.append(sps)
                ratios.append(fps / raw)
                if ale is not None:
                    ales.append(env_fps(ale, steps, frameskip, seed=i)[0])
                    vs_ale.append(sps / ales[-1])
            idle = idle_cpu(env)
        finally:
            env.close()
            if ale is not None:
                ale.close()
        row = {"raw_fps": statistics.median(raws), "env_fps": statistics.median(fpss),
               "steps_per_s": statistics.median(spss), "ratio": statistics.median(ratios),
               "idle_cpu_percent": idle}
        ale_cells = f"{'-':>11} {'-':>7}"
        if ales:
            row["ale_steps_per_s"] = statistics.median(ales)
            row["vs_ale"] = statistics.median(vs_ale)
            ale_cells = f"{row['ale_steps_per_s']:>11.0f} {row['vs_ale']:>7.1%}"
        rows.append(row)
        print(f"{env_id:<26} {row['raw_fps']:>8.0f} {row['env_fps']:>8.0f} "
              f"{row['steps_per_s']:>8.0f} {row['ratio']:>6.1%} {idle:>7.1f}% {ale_cells}")
    print("ratio = env emulated frames/s over raw MAME frames/s (median of pairwise ratios); "
          "vs ALE = env steps/s over ALE steps/s")
    return rows

"""Small parts of the public API: the wheel carries py.typed, MameEnv.step says what it
does, a vector env's sub-envs carry their spec, and the vector kwargs forms of make_vec."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.vector import AutoresetMode

import gym_mame

ROOT = Path(__file__).resolve().parent.parent
BREAKOUT = "Mame/a2600-breakout-v0"
NOFRAMESKIP = "Mame/a2600-breakoutNoFrameskip-v0"


@pytest.mark.pure
def test_the_wheel_ships_py_typed(tmp_path: Path) -> None:
    # Built from a copy of the sources: a build/ folder left in the tree could carry
    # a file the package data no longer names.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("gym_mame", "lua", "integrations"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source),
                          "-w", str(tmp_path / "dist")], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("gym_mame-*.whl"))
    assert "gym_mame/py.typed" in zipfile.ZipFile(wheel).namelist()


@pytest.mark.pure
def test_step_has_a_docstring() -> None:
    doc = gym_mame.MameEnv.step.__doc__ or ""
    assert "terminated" in doc and "truncated" in doc and "frameskip" in doc


def test_sub_envs_carry_the_spec_make_would_give_them() -> None:
    envs = gym.make_vec(NOFRAMESKIP, num_envs=2, obs_type="ram")
    try:
        specs = envs.get_attr("spec")
        assert [s.id for s in specs] == [NOFRAMESKIP] * 2
        assert specs[0].kwargs["obs_type"] == "ram" and specs[0].kwargs["frameskip"] == 1
        assert envs.envs[1].spec == specs[1]
        env = gym.make(specs[0])  # the spec makes the same env
        try:
            assert env.unwrapped.frameskip == 1 and env.unwrapped.obs_type == "ram"
            assert env.unwrapped.repeat_action_probability == 0.0
        finally:
            env.close()
    finally:
        envs.close()
    direct = gym_mame.MameVectorEnv("a2600-breakout", 1, obs_type="ram")
    try:
        (spec,) = direct.get_attr("spec")
        assert spec.id == BREAKOUT and spec.kwargs == {"game": "a2600-breakout",
                                                       "obs_type": "ram"}
    finally:
        direct.close()


def test_vector_kwargs_forms_of_make_vec() -> None:
    # Gymnasium's own vectorizers take the vector env's options as vector_kwargs ...
    envs = gym.make_vec(BREAKOUT, num_envs=1, vectorization_mode="sync", obs_type="ram",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    try:
        assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    finally:
        envs.close()
    # ... and a vector entry point (the native MameVectorEnv) as keywords, as Gymnasium
    # requires: it refuses vector_kwargs for every such env itself, before gym_mame runs.
    envs = gym.make_vec(BREAKOUT, num_envs=1, obs_type="ram", autoreset_mode="SameStep")
    try:
        assert isinstance(envs, gym_mame.MameVectorEnv)
        assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    finally:
        envs.close()
    with pytest.raises(gym.error.Error, match="only through kwargs"):
        gym.make_vec(BREAKOUT, num_envs=1, vector_kwargs={"autoreset_mode": "SameStep"})

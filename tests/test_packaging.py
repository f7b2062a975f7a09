"""The build prints no setuptools warning, and a regular (non-editable) wheel install holds
the integrations and the Lua bridge where gym_mame.wire.resources finds them."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setuptools_version() -> tuple[int, ...]:
    try:
        import setuptools
    except ImportError:
        return (0,)
    return tuple(int(p) for p in re.findall(r"\d+", setuptools.__version__)[:2])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    # offline with this interpreter's setuptools when it is new enough, else isolated
    isolation = [] if _setuptools_version() < (77,) else ["--no-build-isolation"]
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
                          *isolation, str(ROOT), "-w", str(out)],
                         capture_output=True, text=True, timeout=300)
    log = run.stdout + run.stderr
    if run.returncode != 0 and not isolation and re.search(
            r"(?i)network|connection|resolve|No matching distribution", log):
        pytest.skip("no network to fetch setuptools>=77 for build isolation, and this "
                    "interpreter's setuptools is older")
    assert run.returncode == 0, log[-3000:]
    [built] = out.glob("gym_mame-*.whl")
    return built, log


def test_the_build_prints_no_setuptools_warning(wheel) -> None:
    _, log = wheel
    warnings = [line for line in log.splitlines()
                if re.search(r"Warning\b|^\s*!!\s*$", line)
                and "byte-compiling is disabled" not in line]
    assert not warnings, "\n".join(warnings[:20])


def test_a_regular_wheel_install_holds_integrations_and_lua(wheel, tmp_path: Path) -> None:
    built, _ = wheel
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(built)],
                   check=True, timeout=300, capture_output=True)
    # wire/resources.py alone: the package's dependencies are not installed in this venv
    probe = ("import importlib.util, sys, pathlib\n"
             "spec = importlib.util.find_spec('gym_mame')\n"
             "pkg = pathlib.Path(spec.submodule_search_locations[0])\n"
             "sys.path.insert(0, str(pkg / 'wire'))\n"
             "import resources\n"
             "print(resources.integrations_dir()); print(resources.lua_dir())\n")
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60, cwd=tmp_path).stdout.split()
    integrations, lua = Path(out[0]), Path(out[1])
    assert "site-packages" in str(integrations) and ROOT not in integrations.parents
    for game in ("pong", "a2600-breakout", "sfiii3n", "genesis-airstriker"):
        assert (integrations / game / "metadata.json").is_file(), game
    assert sorted(p.name for p in (integrations / "pong").glob("*.json")) == sorted(
        p.name for p in (ROOT / "integrations" / "pong").glob("*.json"))
    assert (lua / "bridge.lua").is_file()
    assert {p.name for p in lua.glob("*.lua")} == {p.name for p in (ROOT / "lua").glob("*.lua")}

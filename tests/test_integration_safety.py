"""An integration folder is data: no value in it runs code, starts a process or reaches a
path outside its folder and the ROM path (pure logic, no MAME).

The folders are copies of shipped ones, broken one value at a time. The payloads are
Python packages that write a marker file when imported: a test fails if the marker
appears, whatever else happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from gym_mame import integration
from gym_mame.errors import IntegrationError, RomNotFoundError
from gym_mame.runtime.roms import find_cartridge

pytestmark = pytest.mark.pure  # runs without MAME

ROOT = Path(__file__).resolve().parent.parent


def edit(folder: Path, change: Callable[[dict[str, Any]], None],
         file: str = "metadata.json") -> None:
    """Apply ``change`` to one JSON file of ``folder``."""
    document = json.loads((folder / file).read_text())
    change(document)
    (folder / file).write_text(json.dumps(document, indent=2))


def payload(where: Path, package: str, marker: Path) -> None:
    """A package ``package`` (dotted: each level a folder) under ``where`` whose every
    ``__init__.py`` writes ``marker`` when it runs."""
    folder = where
    for part in package.split("."):
        folder = folder / part
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write({part!r} + '\\n')\n")


@pytest.fixture
def no_roms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ROM folder of the user's or the machine's holds a cartridge in these tests."""
    monkeypatch.delenv("GYM_MAME_ROMPATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def evil(tmp_path: Path, integration_copy, monkeypatch: pytest.MonkeyPatch,
         no_roms: None) -> Iterator[tuple[Path, Path, Path]]:
    """The issue's reproduction: Breakout's folder naming ``"package": "evilpkg.roms"``
    in ``$GYM_MAME_INTEGRATIONS``, and a payload ``evilpkg/`` in the folder the user
    works in (a downloaded archive, a notebook folder), which is on ``sys.path``.
    Yields (integrations root, payload folder, marker file)."""
    root = tmp_path / "integrations"
    root.mkdir()
    folder = integration_copy("a2600-breakout").rename(root / "evil-breakout")
    edit(folder, lambda m: m["cartridge"].update(package="evilpkg.roms"))
    work = tmp_path / "work"
    marker = tmp_path / "payload-ran"
    payload(work, "evilpkg.roms", marker)
    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", str(root))
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    yield root, work, marker
    for name in [m for m in sys.modules if m == "evilpkg" or m.startswith("evilpkg.")]:
        del sys.modules[name]


# -- cartridge.package: looked up in installed distributions, never imported ---------
def test_gym_make_never_imports_a_package_named_by_a_folder(evil) -> None:
    _, _, marker = evil
    import gym_mame

    assert "Mame/evil-breakout-v0" in gym_mame.register_envs()
    with pytest.raises(RomNotFoundError, match="breakout.bin was not found") as caught:
        gym.make("Mame/evil-breakout-v0")
    assert not marker.exists(), "the folder's package was imported: its payload ran"
    assert "evilpkg" not in sys.modules
    # the error says where it looked and what to do, not "pip install evilpkg.roms"
    assert "no installed Python distribution provides the package evilpkg" in str(caught.value)
    assert "GYM_MAME_ROMPATH" in str(caught.value)


def test_gym_mame_list_never_imports_a_package_named_by_a_folder(evil) -> None:
    _, work, marker = evil
    # `python -m` puts the current folder first on sys.path, as a notebook does
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "gym_mame", "list"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), "gym-mame list imported the folder's package"
    row = next(line for line in out.stdout.splitlines() if "Mame/evil-breakout-v0" in line)
    assert row.split()[2] == "missing"


def test_a_dotted_package_is_found_in_its_distributions_files_without_import(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, integration_copy, no_roms) -> None:
    """A cartridge in ``<package>/<package_dir>/`` of an installed distribution whose
    ``__init__.py`` files would run code: found from the distribution's file list."""
    site = tmp_path / "site"
    marker = tmp_path / "payload-ran"
    payload(site, "cartpkg.sub", marker)
    rom = (ROOT / "integrations" / "a2600-breakout" / "metadata.json").read_bytes()
    (site / "cartpkg" / "sub" / "roms").mkdir()
    (site / "cartpkg" / "sub" / "roms" / "game.bin").write_bytes(rom)
    info = site / "cartpkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cartpkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("cartpkg/__init__.py,,\ncartpkg/sub/__init__.py,,\n"
                                 "cartpkg/sub/roms/game.bin,,\ncartpkg-1.0.dist-info/RECORD,,\n")
    monkeypatch.syspath_prepend(str(site))
    import hashlib

    folder = integration_copy("a2600-breakout")
    edit(folder, lambda m: m["cartridge"].update(package="cartpkg.sub", file="game.bin",
                                                 md5=hashlib.md5(rom).hexdigest()))
    try:
        found = find_cartridge(integration.load(folder).cartridge, [])
        assert found == site / "cartpkg" / "sub" / "roms" / "game.bin"
        assert not marker.exists() and "cartpkg" not in sys.modules
    finally:
        for name in [m for m in sys.modules if m.startswith("cartpkg")]:
            del sys.modules[name]


def test_shipped_cartridges_are_found_in_installed_distributions(no_roms) -> None:
    """The shipped format still works: ale-py's Atari cartridges and stable-retro's
    Airstriker, found in their distributions' files (in a fresh process, which must not
    import either package to find them)."""
    pytest.importorskip("ale_py")
    pytest.importorskip("stable_retro")
    code = ("import sys\n"
            "from gym_mame.integration import load\n"
            "from gym_mame.runtime.roms import find_cartridge\n"
            "for game in ('a2600-breakout', 'genesis-airstriker'):\n"
            "    print(find_cartridge(load(game).cartridge, []))\n"
            "print(sorted(m for m in ('ale_py', 'stable_retro') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    breakout, airstriker, imported = out.stdout.splitlines()
    assert breakout.endswith("site-packages/ale_py/roms/breakout.bin")
    assert airstriker.endswith(
        "site-packages/stable_retro/data/stable/Airstriker-Genesis-v0/rom.md")
    assert imported == "[]"


@pytest.mark.parametrize("package", [
    "../evil", "/tmp/evil", "evil pkg", "evil;rm", ".evil", "evil.", "evil..roms",
    "evil-pkg", "", "1evil", "évil", "evil/roms", "evil.roms\n",
])
def test_a_package_that_is_not_a_dotted_name_is_refused(integration_copy,
                                                        package: str) -> None:
    folder = integration_copy("a2600-breakout")
    edit(folder, lambda m: m["cartridge"].update(package=package))
    with pytest.raises(IntegrationError, match=r"metadata.json: cartridge.package: .*"
                                               r"dotted Python package name"):
        integration.load(folder)


# -- every other value that reaches a path, an import or a process ---------------------
@pytest.mark.parametrize("rom_set", ["../../etc/passwd", "-listxml", "/tmp/x", "a b", "Sf3"])
def test_a_rom_set_that_is_not_a_mame_name_is_refused(integration_copy, rom_set: str) -> None:
    """``rom_set`` is looked for as ``<rom path>/<rom_set>.zip`` and given to ``mame
    -listxml`` by the tools: it must be a MAME short name."""
    folder = integration_copy("tempest1")
    edit(folder, lambda m: m.update(rom_set=rom_set))
    with pytest.raises(IntegrationError, match="metadata.json: rom_set: .*MAME ROM set name"):
        integration.load(folder)


@pytest.mark.parametrize("name", ["boxing_v2.evil", "../boxing_v2", "boxing v2", "os"])
def test_a_pettingzoo_name_that_is_not_one_of_its_env_names_is_refused(
        integration_copy, name: str) -> None:
    """``multiplayer.<n>.pettingzoo`` picks the module the PettingZoo agreement imports
    from ``pettingzoo.atari``: it must be one of PettingZoo's env names."""
    folder = integration_copy("a2600-boxing")
    edit(folder, lambda m: m["multiplayer"]["2"].update(pettingzoo=name))
    with pytest.raises(IntegrationError, match=r"multiplayer.2.pettingzoo: .*PettingZoo"):
        integration.load(folder)


def test_the_pettingzoo_agreement_never_imports_a_name_from_a_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a name that passes the loader is only looked up among PettingZoo's Atari
    envs, never handed to ``import_module``."""
    pytest.importorskip("pettingzoo")
    from gym_mame.agreement.pettingzoo import pettingzoo_env

    marker = tmp_path / "payload-ran"
    payload(tmp_path, "pettingzoo_evil_v1", marker)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(IntegrationError, match="not one of PettingZoo's Atari envs"):
        pettingzoo_env("pettingzoo_evil_v1")
    assert not marker.exists()


# -- symlinks out of the folder ----------------------------------------------------------
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the integration's, holding files a link may point to."""
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_a_start_state_linked_out_of_the_folder_is_refused(integration_copy,
                                                           outside: Path) -> None:
    """A start state that is a link to a file elsewhere is refused when the folder loads
    (before MAME reads it, or `gym-mame make-state` writes through it)."""
    folder = integration_copy("pong")
    edit(folder, lambda m: m["start"].update(state="start.sta"))
    secret = outside / "secret"
    secret.write_bytes(b"MAMESAVE")
    (folder / "start.sta").symlink_to(secret)
    with pytest.raises(IntegrationError, match=r"metadata.json: start.state: .*start.sta is a "
                                               r"link to .*outside the integration folder"):
        integration.load(folder)


def test_a_link_inside_the_folder_is_fine(integration_copy) -> None:
    folder = integration_copy("pong")
    edit(folder, lambda m: m["start"].update(state="start.sta"))
    (folder / "real.sta").write_bytes(b"MAMESAVE")
    (folder / "start.sta").symlink_to("real.sta")
    assert integration.load(folder).states["start"].file == folder / "start.sta"


@pytest.mark.parametrize("file", ["data.json", "scenario.json", "metadata.json"])
def test_json_files_linked_out_of_the_folder_are_refused(integration_copy, outside: Path,
                                                         file: str) -> None:
    folder = integration_copy("pong")
    (outside / file).write_bytes((folder / file).read_bytes())
    (folder / file).unlink()
    (folder / file).symlink_to(outside / file)
    with pytest.raises(IntegrationError, match=rf"{file} is a link to .*outside"):
        integration.load(folder)


def test_a_scenario_name_linked_out_of_the_folder_is_refused(integration_copy,
                                                             outside: Path) -> None:
    """``scenario="name"`` is a file of the folder; a path the user gives is theirs."""
    folder = integration_copy("pong")
    (outside / "other.json").write_bytes((folder / "scenario.json").read_bytes())
    (folder / "other.json").symlink_to(outside / "other.json")
    with pytest.raises(IntegrationError, match="other.json is a link to .*outside"):
        integration.load(folder, scenario="other")
    assert integration.load(folder, scenario=outside / "other.json").scenario_name == "other"


def test_a_fifo_in_the_folder_is_refused_not_waited_on(integration_copy) -> None:
    """A named pipe as data.json would block the loader forever."""
    folder = integration_copy("pong")
    (folder / "data.json").unlink()
    os.mkfifo(folder / "data.json")
    with pytest.raises(IntegrationError, match="data.json is not a regular file"):
        integration.load(folder)


def test_make_state_refuses_to_write_through_a_link_out_of_the_folder(
        integration_copy, outside: Path) -> None:
    """A state with a boot but no file is written by `gym-mame make-state` as
    ``<state>.sta``: a link of that name to a file elsewhere must not be written
    through (refused before MAME starts)."""
    folder = integration_copy("pong")
    edit(folder, lambda m: m.setdefault("states", {}).update(
        Later={"boot": [{"frames": 10}]}))
    victim = outside / "victim"
    victim.write_text("keep me")
    (folder / "Later.sta").symlink_to(victim)
    out = subprocess.run([sys.executable, "-m", "gym_mame", "make-state", str(folder),
                          "--state", "Later"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1, out.stdout + out.stderr  # the CLI's code for a bad folder
    assert "Later.sta is a link to" in out.stderr and len(out.stderr.splitlines()) == 1
    assert victim.read_text() == "keep me"


# -- names already refused (kept so: each reaches a path or MAME's command line) ----------
@pytest.mark.parametrize("key, value, message", [
    ("file", "../breakout.bin", "plain file name"),
    ("file", "/etc/passwd", "plain file name"),
    ("file", "-script", "plain file name"),
    ("package_dir", "../roms", "relative folder"),
    ("package_dir", "roms/../../x", "relative folder"),
    ("package_dir", "/roms", "relative folder"),
    ("slot", "cart -script x", "MAME media name"),
    ("slot", "cart\n", "MAME media name"),
    ("file", "breakout.bin\n", "plain file name"),
])
def test_cartridge_names_that_leave_their_folder_are_refused(integration_copy, key: str,
                                                             value: str, message: str) -> None:
    folder = integration_copy("a2600-breakout")
    edit(folder, lambda m: m["cartridge"].update({key: value}))
    with pytest.raises(IntegrationError, match=f"cartridge.{key}: .*{message}"):
        integration.load(folder)


@pytest.mark.parametrize("state", ["../start.sta", "/tmp/start.sta", "sub/start.sta", ".."])
def test_start_state_paths_are_refused(integration_copy, state: str) -> None:
    folder = integration_copy("pong")
    edit(folder, lambda m: m["start"].update(state=state))
    with pytest.raises(IntegrationError, match="start.state: must be a file name"):
        integration.load(folder)

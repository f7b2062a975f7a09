"""gym-mame import-roms: cartridges matched by checksum whatever their names (loose and
in zip archives), arcade sets judged by MAME's own -verifyroms."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from gym_mame.cli import main
from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge
from gym_mame.tools.rom_import import import_roms

ale_roms = Path(pytest.importorskip("ale_py").__file__).parent / "roms"


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """A user's folder: carts under other names, one zipped, plus files that are nothing."""
    folder = tmp_path / "downloads"
    (folder / "atari").mkdir(parents=True)
    shutil.copyfile(ale_roms / "boxing.bin", folder / "atari" / "Boxing (1980) (Activision).a26")
    with zipfile.ZipFile(folder / "pack.zip", "w") as z:
        z.write(ale_roms / "pong.bin", "Video Olympics (1977).a26")
        z.writestr("readme.txt", "not a cartridge")
    (folder / "notes.txt").write_text("hello")
    return folder


def test_cartridges_are_found_by_checksum(downloads: Path, tmp_path: Path) -> None:
    games = {name: load(name) for name in ("a2600-boxing", "a2600-pong", "a2600-breakout")}
    target = tmp_path / "roms"
    report = import_roms(downloads, target, games=games)
    imported = {item.target.name: item.games for item in report.imported}
    assert imported == {"boxing.bin": ["a2600-boxing"], "pong.bin": ["a2600-pong"]}
    # the integrations now find their cartridges in that ROM folder, checksum and all
    for name in ("a2600-boxing", "a2600-pong"):
        assert find_cartridge(games[name].cartridge, [target]).parent == target
    again = import_roms(downloads, target, games=games)
    assert {i.note for i in again.imported} == {"already there"}


def test_links_instead_of_copies(downloads: Path, tmp_path: Path) -> None:
    games = {"a2600-boxing": load("a2600-boxing"), "a2600-pong": load("a2600-pong")}
    report = import_roms(downloads, tmp_path / "roms", link=True, games=games)
    boxing = next(i.target for i in report.imported if i.games == ["a2600-boxing"])
    pong = next(i.target for i in report.imported if i.games == ["a2600-pong"])
    assert boxing.is_symlink()
    assert not pong.is_symlink()  # a member of an archive is copied out


def test_arcade_set_is_judged_by_mame(tmp_path: Path) -> None:
    """A zip named after the set that MAME finds bad is refused, with MAME's verdict."""
    folder = tmp_path / "arcade"
    folder.mkdir()
    with zipfile.ZipFile(folder / "sfiii3n.zip", "w") as z:
        z.writestr("sfiii3_japan_nocd.29f400.u2", b"\0" * 1024)
    report = import_roms(folder, tmp_path / "roms", games={"sfiii3n": load("sfiii3n")})
    assert not report.imported
    [refused] = report.rejected
    assert refused.games == ["sfiii3n"]
    assert "MAME finds romset sfiii3n bad" in refused.note
    assert not (tmp_path / "roms" / "sfiii3n.zip").exists()


def test_cli_reports_and_fails_on_nothing_found(downloads: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-roms", str(downloads), "--to", str(tmp_path / "roms")]) == 0
    out = capsys.readouterr().out
    assert "boxing.bin: enables Mame/a2600-boxing-v0" in out
    assert f"GYM_MAME_ROMPATH={tmp_path / 'roms'}" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import-roms", str(empty), "--to", str(tmp_path / "roms")]) == 1
    assert "no cartridge or ROM set of a known game" in capsys.readouterr().err
    assert main(["import-roms", str(tmp_path / "nowhere")]) != 0

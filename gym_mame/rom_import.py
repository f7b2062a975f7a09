"""Importing ROMs from a folder by what they are, not what they are called
(``gym-mame import-roms``, as ``python -m retro.import``).

Two kinds of file make a game run here:

- **Cartridges** (Atari 2600, Genesis, ...): an integration names its file by checksum, so
  every file of the folder, and every member of its zip archives, is hashed and matched
  against the integrations' checksums. A match is written into the ROM folder under the
  file name the integration looks for.
- **Arcade ROM sets** (``sfiii3n.zip``): a set is many files whose checksums MAME knows,
  so MAME itself judges them (``mame -verifyroms``). Archives and folders named after a set
  an integration needs (or its parent or BIOS set) are checked and copied when MAME finds
  them good; an archive of another name is shown to ``mame -romident``, whose answer names
  the game it holds.

Nothing is overwritten unless it differs, nothing is deleted, and every file found is
reported with the games it enables.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gym_mame.errors import GymMameError
from gym_mame.integration import Integration, find_folders, load
from gym_mame.mameinfo import machine_info, run_mame

MAX_CARTRIDGE = 64 << 20  # larger files are not cartridges of any system we run
ARCHIVES = (".zip", ".7z")


@dataclass
class Imported:
    """One thing found: where it came from, where it went, and what it enables."""

    source: str
    target: Path | None
    games: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    imported: list[Imported] = field(default_factory=list)
    rejected: list[Imported] = field(default_factory=list)  # recognised but not usable

    def lines(self) -> list[str]:
        out = []
        for item in self.imported:
            games = ", ".join(f"Mame/{g}-v0" for g in item.games)
            out.append(f"imported {item.source} -> {item.target}: enables {games}"
                       + (f" ({item.note})" if item.note else ""))
        for item in self.rejected:
            out.append(f"not imported {item.source}: {item.note}")
        return out


def default_target() -> Path:
    """The first folder of ``$GYM_MAME_ROMPATH``, else ``~/.mame/roms``."""
    first = os.environ.get("GYM_MAME_ROMPATH", "").split(os.pathsep)[0]
    return Path(first).expanduser() if first else Path("~/.mame/roms").expanduser()


def import_roms(source: str | os.PathLike[str], target: str | os.PathLike[str] | None = None,
                link: bool = False, mame: str | None = None,
                games: dict[str, Integration] | None = None) -> Report:
    """Find the cartridges and ROM sets of known integrations in ``source`` (searched
    recursively, zip archives included) and copy (or with ``link``, symlink) them into
    ``target`` (default :func:`default_target`). ``mame`` (default: the system's)
    verifies arcade sets; ``games`` defaults to every integration found."""
    from gym_mame.bridge import find_mame

    root = Path(source).expanduser()
    if not root.is_dir():
        raise GymMameError(f"{root} is not a folder; give the folder that holds your ROMs")
    out = Path(target).expanduser() if target is not None else default_target()
    out.mkdir(parents=True, exist_ok=True)
    if games is None:
        games = {}
        for name in find_folders():
            try:
                games[name] = load(name)
            except GymMameError:
                continue  # a broken folder is `gym-mame list`'s to report
    report = Report()
    _import_cartridges(root, out, link, games, report)
    _import_sets(root, out, link, find_mame(mame), games, report)
    return report


# -- cartridges ----------------------------------------------------------------------
def _import_cartridges(root: Path, out: Path, link: bool, games: dict[str, Integration],
                       report: Report) -> None:
    wanted: dict[str, list[Integration]] = {}  # checksum -> the games whose cartridge it is
    for game in games.values():
        cart = game.cartridge
        for digest in (cart.md5, getattr(cart, "sha1", None)) if cart is not None else ():
            if digest:
                wanted.setdefault(digest.lower(), []).append(game)
    done: set[tuple[str, str]] = set()  # (file name, checksum) written
    for name, read, path in _candidates(root):
        data = read()
        digests = {hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()}
        matches = [g for d in digests for g in wanted.get(d, [])]
        for file_name in dict.fromkeys(g.cartridge.file for g in matches if g.cartridge):
            key = (file_name, hashlib.sha1(data).hexdigest())
            enabled = sorted(g.name for g in matches
                             if g.cartridge is not None and g.cartridge.file == file_name)
            if key in done:
                continue
            done.add(key)
            dest = out / file_name
            if dest.is_file() and dest.read_bytes() == data:
                report.imported.append(Imported(name, dest, enabled, "already there"))
                continue
            _put(dest, data, path if link else None)
            report.imported.append(Imported(name, dest, enabled))


def _candidates(root: Path) -> Iterator[tuple[str, Callable[[], bytes], Path | None]]:
    """Every file under ``root`` and every member of its zip archives, small enough to
    be a cartridge: (a name to report, a way to read it, its path if it is a file)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        size = path.stat().st_size
        if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as archive:
                    members = [m for m in archive.infolist()
                               if not m.is_dir() and m.file_size <= MAX_CARTRIDGE]
                    for member in members:
                        yield (f"{path}:{member.filename}",
                               lambda a=path, m=member.filename: _read_member(a, m), None)
            except (zipfile.BadZipFile, OSError):
                continue
        elif 0 < size <= MAX_CARTRIDGE:
            yield str(path), path.read_bytes, path


def _read_member(archive: Path, member: str) -> bytes:
    with zipfile.ZipFile(archive) as z:
        return z.read(member)


def _put(dest: Path, data: bytes, source: Path | None) -> None:
    """Write ``data`` at ``dest`` atomically, or link ``source`` there."""
    tmp = dest.with_name(f".{dest.name}.part")
    tmp.unlink(missing_ok=True)
    if source is not None:
        tmp.symlink_to(source.resolve())
    else:
        tmp.write_bytes(data)
    os.replace(tmp, dest)


# -- arcade ROM sets -------------------------------------------------------------------
def _import_sets(root: Path, out: Path, link: bool, mame: str,
                 games: dict[str, Integration], report: Report) -> None:
    needs: dict[str, list[str]] = {}  # set -> games that need it (itself or as a parent/BIOS)
    descriptions: dict[str, str] = {}
    for game in games.values():
        if game.rom_set is None:
            continue
        for name in _set_chain(mame, game.rom_set):
            needs.setdefault(name, []).append(game.name)
        info = machine_info(mame, game.rom_set)
        if info is not None:
            descriptions[info.description] = game.rom_set
    if not needs:
        return
    found: dict[str, Path] = {}
    unnamed: list[Path] = []
    for path in sorted(root.rglob("*")):
        stem = path.stem if path.suffix.lower() in ARCHIVES else path.name
        if (path.is_file() and path.suffix.lower() in ARCHIVES) or path.is_dir():
            if stem in needs and stem not in found:
                found[stem] = path
            elif path.is_file() and not path.name.startswith("."):
                unnamed.append(path)
    carts = {item.source.split(":", 1)[0] for item in report.imported}
    for path in (p for p in unnamed if str(p) not in carts):
        # named otherwise: MAME's -romident says which game it holds
        named = _identify(mame, path, descriptions)
        if named is not None and named not in found:
            report.rejected.append(Imported(
                str(path), None, [], f"holds {named}'s ROMs (mame -romident); MAME finds sets "
                f"by name: rename it {named}{path.suffix} and import again"))
    # Parents and BIOS sets first, so that a clone is verified with them in place.
    for name in sorted(found, key=lambda n: len(_set_chain(mame, n))):
        path = found[name]
        status = _verify(mame, name, [path.parent, out])
        enabled = sorted(g for g in needs[name])
        if status in ("good", "best available"):
            dest = out / path.name
            if path.is_dir():
                if not dest.exists():
                    if link:
                        dest.symlink_to(path.resolve())
                    else:
                        shutil.copytree(path, dest)
            elif not (dest.is_file() and dest.read_bytes() == path.read_bytes()):
                _put(dest, b"" if link else path.read_bytes(), path if link else None)
            report.imported.append(Imported(str(path), dest, enabled,
                                            f"MAME: romset {name} is {status}"))
        else:
            report.rejected.append(Imported(
                str(path), None, enabled, f"MAME finds romset {name} {status} "
                f"(`mame -verifyroms {name} -rompath {path.parent}` lists the wrong or "
                "missing files)"))


def _set_chain(mame: str, name: str) -> list[str]:
    """``name`` and the sets it takes ROMs from (parent, BIOS), nearest first."""
    chain = [name]
    while True:
        info = machine_info(mame, chain[-1])
        if info is None or not info.rom_of or info.rom_of in chain:
            return chain
        chain.append(info.rom_of)


def _verify(mame: str, name: str, paths: list[Path]) -> str:
    """MAME's verdict on set ``name`` in ``paths``: good, best available, bad, not found."""
    out = run_mame(mame, "-verifyroms", name, "-rompath", ";".join(str(p) for p in paths))
    text = out.stdout + out.stderr
    for verdict in ("is good", "is best available", "is bad", "not found"):
        if verdict in text:
            return verdict.removeprefix("is ")
    return "not verifiable (" + (text.strip().splitlines() or ["no answer"])[-1] + ")"


def _identify(mame: str, path: Path, descriptions: dict[str, str]) -> str | None:
    """The known set whose ROMs ``path`` holds, by ``mame -romident``'s game names."""
    text = run_mame(mame, "-romident", str(path)).stdout
    for description, name in descriptions.items():
        if description and description in text:
            return name
    return None

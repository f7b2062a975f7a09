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

import filecmp
import hashlib
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gym_mame.errors import GymMameError
from gym_mame.integration import Integration, find_folders, load
from gym_mame.wire.mameinfo import machine_info, run_mame

# The largest cartridge of the systems the integrations run (Genesis and SNES cartridges
# hold at most 6 MB, Atari 2600 ones 64 KB): no file or archive member larger than this is
# read, whatever size it declares, so a zip bomb costs nothing.
MAX_CARTRIDGE = 8 << 20
MAX_RATIO = 100  # ROM data compresses a few times; more than this is a bomb's zeros
ARCHIVES = (".zip", ".7z")
# What a damaged, hostile or unsupported archive member raises in zipfile.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError, zlib.error)


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
    damaged: set[Path] = field(default_factory=set)  # archives not to show MAME

    def lines(self) -> list[str]:
        out = []
        for item in self.imported:
            games = ", ".join(f"Mame/{g}-v0" for g in item.games)
            out.append(f"imported {item.source} -> {item.target}: enables {games}"
                       + (f" ({item.note})" if item.note else ""))
        for item in self.rejected:
            out.append(f"not imported {item.source}: {item.note}")
        return out

    def refuse(self, source: str | Path, why: str) -> None:
        """Report a file that was not looked into, and why (one line)."""
        self.rejected.append(Imported(str(source), None, [], why))


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
    verifies arcade sets; ``games`` defaults to every integration found.

    Links are followed only to files inside ``source``; files that cannot be read, damaged
    archives, unsafe member names and anything larger than ``MAX_CARTRIDGE`` are reported
    in ``Report.rejected`` and the search goes on."""
    from gym_mame.wire.bridge import find_mame

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
    files, folders = _walk(root, report)
    too_large = _import_cartridges(files, out, link, games, report)
    _import_sets(files, folders, out, link, find_mame(mame), games, report)
    # a member too large for a cartridge is expected in an arcade set MAME found good
    sets = [Path(item.source) for item in report.imported if item.target is not None
            and item.note.startswith("MAME:")]
    report.rejected += [item for path, item in too_large
                        if not any(path == s or s in path.parents for s in sets)]
    return report


# -- walking the folder ------------------------------------------------------------
def _walk(root: Path, report: Report) -> tuple[list[Path], list[Path]]:
    """The regular files and the folders under ``root``, sorted. A link is taken only to a
    file inside ``root`` (never followed into a folder); links out, broken links, link
    loops, FIFOs, devices and unreadable folders are reported."""
    inside = root.resolve()
    files: list[Path] = []
    folders: list[Path] = []

    def unreadable(error: OSError) -> None:
        report.refuse(error.filename, f"cannot be read ({error.strerror})")

    for top, dirs, names in os.walk(root, onerror=unreadable):  # never follows links
        for name in [*dirs, *names]:
            path = Path(top, name)
            try:
                mode = path.lstat().st_mode
            except OSError as exc:
                report.refuse(path, f"cannot be read ({exc.strerror})")
                continue
            if stat.S_ISDIR(mode):
                folders.append(path)
            elif stat.S_ISREG(mode):
                files.append(path)
            elif stat.S_ISLNK(mode):
                _follow(path, inside, files, report)
            else:
                report.refuse(path, "not a regular file (a FIFO, socket or device)")
    return sorted(files), sorted(folders)


def _follow(link: Path, inside: Path, files: list[Path], report: Report) -> None:
    """Take ``link`` if it leads to a regular file inside the folder; else say why not."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a loop (Python < 3.13)
        report.refuse(link, "a broken link or a link loop")
        return
    if not target.is_relative_to(inside):
        report.refuse(link, f"a link out of the folder (to {target}); not followed")
    elif target.is_file():
        files.append(link)
    elif not target.is_dir():  # a link to a folder inside is searched there, not twice
        report.refuse(link, "a link to something that is not a regular file")


# -- cartridges ----------------------------------------------------------------------
def _import_cartridges(files: list[Path], out: Path, link: bool,
                       games: dict[str, Integration], report: Report,
                       ) -> list[tuple[Path, Imported]]:
    """Import the files and archive members whose checksum is a known cartridge's; return
    the files and archives too large to be one (reported unless they are an arcade set)."""
    wanted: dict[str, list[Integration]] = {}  # checksum -> the games whose cartridge it is
    for game in games.values():
        cart = game.cartridge
        for digest in (cart.md5, getattr(cart, "sha1", None)) if cart is not None else ():
            if digest:
                wanted.setdefault(digest.lower(), []).append(game)
    done: set[tuple[str, str]] = set()  # (file name, checksum) written
    too_large: list[tuple[Path, Imported]] = []
    for name, data, path in _candidates(files, report, too_large):
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
    return too_large


def _candidates(files: list[Path], report: Report, too_large: list[tuple[Path, Imported]],
                ) -> Iterator[tuple[str, bytes, Path | None]]:
    """Every file and zip member small enough to be a cartridge, read at most
    ``MAX_CARTRIDGE`` bytes: (a name to report, its bytes, its path if it is a file)."""
    for path in files:
        try:
            size = path.stat().st_size
        except OSError as exc:
            report.refuse(path, f"cannot be read ({exc.strerror})")
            continue
        if path.suffix.lower() == ".zip":
            for name, data in _members(path, report, too_large):
                yield name, data, None
        elif size > MAX_CARTRIDGE:
            too_large.append((path, Imported(str(path), None, [], f"{_size(size)}, larger "
                                             f"than any cartridge ({_size(MAX_CARTRIDGE)})")))
        elif size > 0:
            try:
                data = _read_file(path)
            except OSError as exc:
                report.refuse(path, f"cannot be read ({exc.strerror or exc})")
                continue
            yield str(path), data, path


def _read_file(path: Path) -> bytes:
    """At most ``MAX_CARTRIDGE`` bytes of a regular file (never blocking on a FIFO put in
    its place since the folder was walked)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is no longer a regular file")
        return stream.read(MAX_CARTRIDGE)


def _members(path: Path, report: Report, too_large: list[tuple[Path, Imported]],
             ) -> Iterator[tuple[str, bytes]]:
    """The members of zip archive ``path`` that may be cartridges, each read through a
    hard limit of ``MAX_CARTRIDGE`` bytes (a declared size can lie). A damaged archive
    or member, an unsafe name or an archive inside the archive is reported."""
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        report.damaged.add(path)
        report.refuse(path, f"not a readable zip archive ({exc}); a damaged or truncated "
                      "download?")
        return
    with archive:
        big = []
        for member in archive.infolist():
            name = f"{path}:{member.filename}"
            if member.is_dir():
                continue
            if _unsafe(member.filename):
                report.damaged.add(path)
                report.refuse(name, "a member name leaving the archive (absolute or with ..)")
            elif member.file_size > MAX_CARTRIDGE:
                big.append(member)
            else:
                data = _read_member(archive, member, name, report)
                if data is not None:
                    yield name, data
        if big:  # an arcade set (MAME judges it) or a zip bomb (MAME is not shown it)
            largest = max(big, key=lambda m: m.file_size)
            ratio = largest.file_size // max(largest.compress_size, 1)
            bomb = f", compressed {ratio}:1: a zip bomb?" if ratio > MAX_RATIO else ""
            if bomb:
                report.damaged.add(path)
            too_large.append((path, Imported(str(path), None, [], (
                f"{len(big)} member(s) larger than any cartridge ({_size(MAX_CARTRIDGE)}) "
                f"not read, up to {_size(largest.file_size)}{bomb}"))))


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str,
                 report: Report) -> bytes | None:
    """A member's bytes, at most ``MAX_CARTRIDGE``; None (reported) if it cannot be one."""
    try:
        with archive.open(member) as stream:
            data = stream.read(MAX_CARTRIDGE + 1)
    except _ZIP_ERRORS as exc:
        report.damaged.add(Path(archive.filename or name))
        report.refuse(name, f"cannot be read ({exc}); a damaged or truncated download?")
        return None
    if len(data) > MAX_CARTRIDGE:
        report.refuse(name, f"expands beyond {_size(MAX_CARTRIDGE)} (a zip bomb?); not read")
        return None
    if data[:4] == b"PK\x03\x04":  # MAME's -romident would expand it, bomb or not
        report.damaged.add(Path(archive.filename or name))
        report.refuse(name, "an archive inside an archive is not searched; unpack it first")
        return None
    return data


def _unsafe(member: str) -> bool:
    """Whether a member name is absolute or climbs out (``../``), in either separator."""
    parts = PurePosixPath(member.replace("\\", "/"))
    return parts.is_absolute() or ".." in parts.parts or bool(re.match(r"[A-Za-z]:", member))


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


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
def _import_sets(files: list[Path], folders: list[Path], out: Path, link: bool, mame: str,
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
    archives = [p for p in files if p.suffix.lower() in ARCHIVES]
    for path in sorted([*archives, *folders]):
        stem = path.stem if path in archives else path.name
        if stem in needs and stem not in found:
            found[stem] = path
        elif path in archives and not path.name.startswith(".") and path not in report.damaged:
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
                    else:  # links inside the set's folder may lead anywhere: left out
                        shutil.copytree(path, dest, ignore=_links)
            elif not (dest.is_file() and filecmp.cmp(dest, path, shallow=False)):
                _put(dest, b"" if link else path.read_bytes(), path if link else None)
            report.imported.append(Imported(str(path), dest, enabled,
                                            f"MAME: romset {name} is {status}"))
        else:
            report.rejected.append(Imported(
                str(path), None, enabled, f"MAME finds romset {name} {status} "
                f"(`mame -verifyroms {name} -rompath {path.parent}` lists the wrong or "
                "missing files)"))


def _links(folder: str, names: list[str]) -> list[str]:
    """The names in ``folder`` that are symbolic links (``shutil.copytree``'s ignore)."""
    return [n for n in names if os.path.islink(os.path.join(folder, n))]


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

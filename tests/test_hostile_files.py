"""The tools on hostile files: `gym-mame import-roms` on a ROM folder that a truncated
download, a zip bomb, links, bad member names, unreadable files, 10,000 junk files and a
sparse 8 GiB file share with honest cartridges (no MAME emulation; MAME's listings only)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge

pytest.importorskip("ale_py")


def cartridge(game: str) -> Path:
    """The game's cartridge as its integration finds it (metadata.json's file and md5)."""
    return find_cartridge(load(game).cartridge, [])


def raw_zip(path: Path, name: str, deflated: bytes, crc: int, size: int) -> None:
    """A zip of one member whose deflate stream is given as is, with the CRC and size it
    declares (which may lie)."""
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 33, crc, len(deflated),
                        size, len(name), 0) + name.encode()
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, crc,
                          len(deflated), size, len(name), 0, 0, 0, 0, 0, 0) + name.encode()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(deflated), 0)
    path.write_bytes(local + deflated + central + end)


def zeros_bomb(path: Path, gib: int = 1, declared: int | None = None) -> None:
    """``gib`` GiB of zeros in a zip of about 1 MB: one MiB of zeros deflated once, the
    same bytes repeated (a full flush makes each repeat stand alone)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = pack.compress(bytes(1 << 20)) + pack.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024 * gib):
        crc = zlib.crc32(bytes(1 << 20), crc)
    raw_zip(path, "zeros.bin", mib * (1024 * gib) + pack.flush(), crc,
            declared if declared is not None else (gib << 30) - 1)  # fits 32 bits


def snapshot(folder: Path, leave_out: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (not ``leave_out``) with its size and mtime, links not
    followed."""
    out = {}
    for top, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(top, name)
            if path != leave_out and leave_out not in path.parents:
                info = path.lstat()
                out[str(path)] = (info.st_size, info.st_mtime_ns)
    return out


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "roms-download"
    folder.mkdir()
    # honest: a loose cartridge under another name, and one in an honest zip
    shutil.copyfile(cartridge("a2600-breakout"), folder / "Breakout (1978) (Atari).a26")
    with zipfile.ZipFile(folder / "good.zip", "w") as z:
        z.write(cartridge("a2600-pong"), "Video Olympics.a26")
    # a truncated download: a member whose bytes are damaged (bad CRC), a zip cut in half
    with zipfile.ZipFile(folder / "bad-crc.zip", "w", zipfile.ZIP_STORED) as z:
        z.write(cartridge("a2600-boxing"), "Boxing.a26")
    data = bytearray((folder / "bad-crc.zip").read_bytes())
    data[100] ^= 0xFF  # inside the stored member
    (folder / "bad-crc.zip").write_bytes(bytes(data))
    whole = (folder / "good.zip").read_bytes()
    (folder / "truncated.zip").write_bytes(whole[: len(whole) // 2])
    # zip bombs: 1 GiB of zeros, the same inside another zip, and one lying about its size
    zeros_bomb(folder / "bomb.zip")
    with zipfile.ZipFile(folder / "nested.zip", "w") as z:
        z.write(folder / "bomb.zip", "bomb.zip")
    zeros_bomb(folder / "liar.zip", declared=1000)
    # member names that leave the archive, holding an honest cartridge
    with zipfile.ZipFile(folder / "names.zip", "w") as z:
        for name in ("../../freeway.bin", "/tmp/freeway.bin"):  # ZipInfo keeps them as is
            z.writestr(zipfile.ZipInfo(name), cartridge("a2600-freeway").read_bytes())
    # links: a loop, a link to a folder above (a loop for a follower), links out
    os.symlink("loop-b", folder / "loop-a")
    os.symlink("loop-a", folder / "loop-b")
    (folder / "sub").mkdir()
    os.symlink("..", folder / "sub" / "up")
    os.symlink("/", folder / "root")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copyfile(cartridge("a2600-tennis"), outside / "tennis.bin")
    os.symlink(outside / "tennis.bin", folder / "Tennis.a26")  # an honest cart, but outside
    # unreadable: chmod 000 (root reads it anyway), a FIFO, a folder named like a file
    (folder / "locked.a26").write_bytes(b"locked")
    (folder / "locked.a26").chmod(0)
    os.mkfifo(folder / "pipe.a26")
    (folder / "Folder.a26").mkdir()
    # 10,000 junk files and an 8 GiB sparse file
    junk = folder / "junk"
    junk.mkdir()
    for i in range(10_000):
        (junk / f"{i}.bin").write_bytes(i.to_bytes(4, "little") * 8)
    with open(folder / "disk.img", "wb") as f:
        f.truncate(8 << 30)
    return folder


def test_import_roms_survives_a_hostile_folder(hostile: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    before = snapshot(tmp_path, dest)
    # The probe's own peak is VmHWM, not ru_maxrss: Linux carries a process's ru_maxrss
    # across exec, so a child started by a big pytest process inherits pytest's peak.
    probe = ("import json, re, resource, sys\nfrom gym_mame.cli import main\n"
             "code = main(sys.argv[1:])\n"
             "status = open('/proc/self/status').read()\n"
             "use = int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1))\n"
             "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
             "print(json.dumps({'code': code, 'rss_kb': use, 'children_rss_kb': kids}))\n")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", probe, "import-roms", str(hostile),
                          "--to", str(dest)], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stderr
    *lines, last = run.stdout.splitlines()
    measured = json.loads(last)
    print(f"import-roms on the hostile folder: {seconds:.1f} s, peak RSS "
          f"{measured['rss_kb'] / 1024:.0f} MB (MAME: {measured['children_rss_kb'] / 1024:.0f} MB)")
    assert measured["code"] == 0
    assert seconds < 60  # about 5 s alone; the old code read the bombs whole
    assert measured["rss_kb"] < 400 * 1024  # well under 1 GB (the old code: 1.1 GB)
    assert measured["children_rss_kb"] < 400 * 1024  # MAME was never shown a bomb
    assert "Traceback" not in run.stderr

    # the honest cartridges are imported, and only they
    assert sorted(p.name for p in dest.iterdir()) == ["breakout.bin", "pong.bin"]
    assert (dest / "breakout.bin").read_bytes() == cartridge("a2600-breakout").read_bytes()
    # every hostile file is named in one line, with why
    why = {line.split(": ", 1)[0].removeprefix("not imported "): line.split(": ", 1)[1]
           for line in lines if line.startswith("not imported ")}
    h = str(hostile)
    assert "Bad CRC-32" in why[f"{h}/bad-crc.zip:Boxing.a26"]
    assert "not a readable zip archive" in why[f"{h}/truncated.zip"]
    assert "zip bomb?" in why[f"{h}/bomb.zip"]
    assert "an archive inside an archive" in why[f"{h}/nested.zip:bomb.zip"]
    assert "Bad CRC-32" in why[f"{h}/liar.zip:zeros.bin"]  # read no further than declared
    assert "leaving the archive" in why[f"{h}/names.zip:../../freeway.bin"]
    assert "leaving the archive" in why[f"{h}/names.zip:/tmp/freeway.bin"]
    assert "link loop" in why[f"{h}/loop-a"] and "link loop" in why[f"{h}/loop-b"]
    assert "a link out of the folder" in why[f"{h}/root"]
    assert "a link out of the folder" in why[f"{h}/Tennis.a26"]
    assert "not a regular file" in why[f"{h}/pipe.a26"]
    assert "8.0 GiB, larger than any cartridge" in why[f"{h}/disk.img"]
    if os.geteuid() != 0:  # root reads a chmod 000 file: the FIFO stands for it then
        assert "cannot be read" in why[f"{h}/locked.a26"]
    assert len(why) < 30  # junk that is simply no cartridge is not listed file by file
    # nothing written anywhere but the destination (nor by member names that climb out)
    assert snapshot(tmp_path, dest) == before
    assert not Path("/tmp/freeway.bin").exists()


# -- import-retro on malformed or hostile gym-retro folders -----------------------------
GOOD_DATA = {"info": {"score": {"address": 16712270, "type": ">u4"},
                      "lives": {"address": "0xFF005A", "type": ">u2"}}}
GOOD_SCENARIO = {"reward": {"variables": {"score": {"reward": 1.0}}},
                 "done": {"variables": {"lives": {"op": "zero"}}}}


def retro_folder(root: Path, data=GOOD_DATA, scenario=GOOD_SCENARIO, meta=None,
                 sha: str = "a8be7b0ca850119b167f9644e6a4a22e983d61a4") -> Path:
    """A small gym-retro folder of a Genesis game, its files given as JSON or as text."""
    folder = root / "Thing-Genesis-v0"
    folder.mkdir()
    for name, content in (("data.json", data), ("scenario.json", scenario),
                          ("metadata.json", meta if meta is not None else {})):
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))
    (folder / "rom.sha").write_text(sha + "\n")
    (folder / "Level1.state").write_bytes(b"libretro")
    return folder


def with_info(**variable) -> dict:
    return {"info": {**GOOD_DATA["info"], "x": {"type": "|u1", **variable}}}


HOSTILE_RETRO = {
    "bad JSON": ({"data": '{"info": {"score": '}, "data.json: not valid JSON at line 1"),
    "a float address": ({"data": with_info(address=16712294.5)},
                        "data.json: info.x.address: 16712294.5 is not an integer address"),
    "a huge address": ({"data": with_info(address=10 ** 30)},
                       "data.json: info.x: 0xc9f2c9cd04674edea40000000 is outside the work RAM"),
    "a 5000-digit number": ({"data": '{"info": {"x": {"address": ' + "9" * 5000 + "}}}"},
                            "data.json: holds a number of more than 4300 digits"),
    "an undefined variable": ({"data": {"info": {"x": {"address": 16711681, "type": "|u1"}}}},
                              "the folder it makes would not load: scenario.json: top level: "
                              "uses variable 'lives', which data.json does not define"),
    "a ../../x default_state": ({"meta": {"default_state": "../../x"}},
                                'metadata.json: default_state: "../../x" is not a state name'),
    "an unknown button": ({"scenario": {**GOOD_SCENARIO, "actions": [[["JUMP"]]]}},
                          'scenario.json: actions: ["JUMP"] is not a list of Genesis buttons'),
    "a negative crop": ({"scenario": {**GOOD_SCENARIO, "crop": [0, 0, -160, 5]}},
                        "the folder it makes would not load: metadata.json: crop: expected"),
    "a nesting bomb": ({"scenario": "[" * 100_000}, "scenario.json: nested more than 64"),
    "a bad rom.sha": ({"sha": "../../etc/passwd"}, "rom.sha: expected a SHA-1"),
}


@pytest.mark.pure
@pytest.mark.parametrize("case", HOSTILE_RETRO, ids=list(HOSTILE_RETRO))
def test_import_retro_names_the_wrong_value_and_writes_nothing(tmp_path: Path, capsys,
                                                               case: str) -> None:
    from gym_mame.cli import main

    files, message = HOSTILE_RETRO[case]
    source = retro_folder(tmp_path, **files)
    out = tmp_path / "out" / "genesis-thing"
    before = snapshot(tmp_path, out)
    assert main(["import-retro", str(source), "--out", str(out)]) == 2
    [line] = capsys.readouterr().err.splitlines()  # one line, no traceback
    assert line.startswith("gym-mame import-retro: ") and message in line, line
    assert not out.exists() and not (tmp_path / "out").exists()
    assert snapshot(tmp_path, out) == before


@pytest.mark.pure
def test_import_retro_of_an_honest_folder_writes_one_that_loads(tmp_path: Path) -> None:
    from gym_mame.cli import main

    out = tmp_path / "genesis-thing"
    assert main(["import-retro", str(retro_folder(tmp_path)), "--out", str(out)]) == 0
    assert set(load(out).variables) == {"score", "lives"}


@pytest.mark.pure
def test_import_retro_takes_a_stable_retro_name_without_its_version(tmp_path: Path,
                                                                    capsys) -> None:
    pytest.importorskip("stable_retro")
    from gym_mame.cli import main

    out = tmp_path / "genesis-airstriker"
    assert main(["import-retro", "Airstriker-Genesis", "--out", str(out)]) == 0  # README's
    assert load(out).cartridge.sha1 == "a8be7b0ca850119b167f9644e6a4a22e983d61a4"
    assert main(["import-retro", "Airstrikr-Genesis", "--out", str(tmp_path / "x")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "unknown stable-retro game 'Airstrikr-Genesis'; closest: Airstriker-Genesis-v0" \
        in line
    assert not (tmp_path / "x").exists()

"""MAME's command line for an emulation run, built in one place.

Every MAME this package runs to emulate (the bridge's, the benchmark's raw ``-str``
run, the save-state item lister) is a :class:`MameCommand`. Making one checks the
machine and its slot/media options against ``mame -listxml``
(:func:`gym_mame.wire.mameinfo.check_command_line`): a name taken from an integration
folder becomes ``-<name> <value>``, so it must be one of the machine's slots or
media, never another MAME option. :meth:`MameCommand.argv` then puts every file MAME
writes in a private folder and never reads the user's ``mame.ini``.

Listings (``-listxml``, ``-verifyroms``, ``-showconfig``) run no emulation and go
through :func:`gym_mame.wire.mameinfo.run_mame`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gym_mame.wire.mameinfo import check_command_line

# MAME's writable folders, each an option naming a sub-folder of the private folder.
FOLDERS = (
    ("-cfg_directory", "cfg"),
    ("-nvram_directory", "nvram"),
    ("-state_directory", "sta"),
    ("-snapshot_directory", "snap"),
    ("-input_directory", "inp"),
    ("-diff_directory", "diff"),
)


@dataclass(frozen=True)
class MameCommand:
    """One emulation run of MAME, checked when it is made.

    Args:
        executable: the MAME binary (see :func:`gym_mame.wire.bridge.find_mame`).
        machine: MAME machine (driver) name, e.g. ``"pong"`` or ``"a2600"``.
        media: slot and media options, e.g. ``{"cart": "/abs/breakout.bin",
            "joyport1": "pad"}``; each must be one of the machine's slots (with one of
            its options) or media (with an absolute path).
        rom_paths: folders MAME searches for ROM sets (``-rompath``); none: an empty
            folder in the private folder (MAME's own default, ``roms``, would read
            whatever folder the caller happens to be in).
        script: a Lua file MAME runs at start (``-autoboot_script``).
        headless: no window (``-video none``); ``False`` opens MAME's window. Sound
            is off either way.
        throttle: run at real-time speed (for watching) instead of ``-nothrottle``.
        seconds: ``-str``: emulate this many seconds, then exit (MAME then prints its
            average speed).
        extra: more options, passed as given: for the package's own tools (e.g.
            ``-record``), never for anything read from an integration folder.
    """

    executable: str
    machine: str
    media: Mapping[str, str] = field(default_factory=dict)
    rom_paths: Sequence[str] = ()
    script: str | os.PathLike[str] | None = None
    headless: bool = True
    throttle: bool = False
    seconds: int | None = None
    extra: Sequence[str] = ()

    def __post_init__(self) -> None:
        # Copies: a caller's dict changed later must not change a checked command.
        object.__setattr__(self, "media", {str(k): str(v) for k, v in self.media.items()})
        object.__setattr__(self, "rom_paths", tuple(str(p) for p in self.rom_paths))
        object.__setattr__(self, "extra", tuple(self.extra))
        if self.seconds is not None and (isinstance(self.seconds, bool)
                                         or not isinstance(self.seconds, int)
                                         or self.seconds < 1):
            raise ValueError(f"seconds (-str) must be a positive whole number, "
                             f"not {self.seconds!r}")
        check_command_line(self.executable, self.machine, self.media)

    def argv(self, workdir: str | os.PathLike[str]) -> list[str]:
        """The command line, with every file MAME writes under ``workdir``."""
        wd = Path(workdir)
        cmd = [self.executable, self.machine]
        for option, value in self.media.items():
            cmd += [f"-{option}", value]
        cmd += [
            "-rompath", ";".join(self.rom_paths) or str(wd / "roms"),
            "-noreadconfig",  # never pick up the user's mame.ini
            "-skip_gameinfo",
            "-homepath", str(wd),
        ]
        for option, folder in FOLDERS:
            cmd += [option, str(wd / folder)]
        if self.script is not None:
            cmd += ["-autoboot_script", str(self.script)]
        if self.seconds is not None:
            cmd += ["-str", str(self.seconds)]
        cmd += ["-video", "none", "-sound", "none"] if self.headless else \
            ["-window", "-sound", "none"]
        if not self.throttle:
            cmd.append("-nothrottle")
        return [*cmd, *self.extra]  # last: MAME takes the last of a repeated option

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for MAME: ``base`` (default: this process's) with SDL's audio
        (unless one is chosen) and, headless, video drivers set to ``dummy`` (no sound
        device or display is needed)."""
        env = dict(os.environ if base is None else base)
        env.setdefault("SDL_AUDIODRIVER", "dummy")
        if self.headless:
            env["SDL_VIDEODRIVER"] = "dummy"
        return env

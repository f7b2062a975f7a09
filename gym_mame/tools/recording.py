"""Record a play into MAME's own input recording (``.inp``) and replay it.

A recording folder holds:

- ``play.inp``: MAME's input recording (``-record``), replayed with ``-playback``;
- ``start.sta`` / ``end.sta``: the machine state the play started from and ended in;
- ``recording.json``: the game, seed, agent, the actions taken, and the final
  variables, RAM and end-state checksum that a replay must reproduce.

How MAME 0.251 behaves here (each point checked on this package's integrations):

- ``-record`` works alongside the bridge's ``-autoboot_script``, but MAME writes the
  ``.inp`` (a zlib stream) out only when the emulation ends normally. The bridge's
  shutdown ends the process at once, which leaves a 64-byte file with the header
  only, so a recording MAME also loads the small plugin in ``mame_plugins/`` and is
  stopped through it (:func:`stop_cleanly`).
- The ``.inp`` stores, for every frame, the emulated time and each port's digital
  bits and analog accumulators. Digital fields set from Lua are part of those bits,
  so they are recorded. Analog values set from Lua (``field:set_value``) are an
  override that bypasses the accumulator, so they are *not* recorded: replaying an
  agent's play of a game with analog inputs (pong's paddles) needs its actions too.
- Save-state loads during a recording are fine as long as the replay loads the
  same states at the same frames: playback compares each frame's time with the
  recorded one and silently stops on the first difference ("Out of sync"), after
  which the live inputs take over. An env loads its start state when it is created
  and on every reset, so a replay repeats exactly the recording's create-reset-step
  sequence.
- With that, replays are exact: the end state file is byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gym_mame.envs.env import MameEnv
from gym_mame.errors import GymMameError
from gym_mame.integration import load
from gym_mame.integration.jsonfile import load_json
from gym_mame.runtime.emulator import START_STATE, Emulator
from gym_mame.wire.bridge import extra_mame_args, find_mame
from gym_mame.wire.mamecmd import MameCommand
from gym_mame.wire.mameinfo import run_mame

INP_NAME = "play.inp"
INFO_NAME = "recording.json"
PLUGIN_NAME = "gym_mame_stop"
STOP_FRAMES = 60  # the step that lets MAME run into the exit the plugin asks for
_INP_HEADER_BYTES = 64
_STATE_HEADER_BYTES = 32
# Save-state items that differ between two runs of the same inputs because MAME
# leaves them uninitialised; they do not affect the game (checked: RAM and every
# variable match). a2600: the TIA video's player-sprite drawing bookkeeping.
UNSTABLE_ITEMS = {
    "a2600": ("p0gfx.", "p1gfx."),
}


def plugin_dir() -> Path:
    """The folder holding the ``gym_mame_stop`` MAME plugin."""
    return Path(__file__).resolve().parent / "mame_plugins"


@functools.lru_cache(maxsize=4)
def _system_plugin_path(mame: str) -> str:
    """MAME's configured plugin folder (it holds ``boot.lua``, which starts plugins)."""
    out = run_mame(mame, "-showconfig", read_config=True, timeout=30).stdout
    match = re.search(r"^pluginspath\s+(.+)$", out, re.MULTILINE)
    return match.group(1).strip() if match else ""


def plugin_args(mame: str | None = None) -> list[str]:
    """MAME options that load the ``gym_mame_stop`` plugin."""
    system = _system_plugin_path(find_mame(mame))
    paths = ";".join(p for p in (system, str(plugin_dir())) if p)
    return ["-pluginspath", paths, "-plugin", PLUGIN_NAME]


def stop_cleanly(emulator: Emulator, timeout: float = 10.0) -> str:
    """End MAME normally (so it finishes its input recording) and return its log.

    Asks the plugin to exit, then lets the emulation run: the STEP never gets its
    reply because the machine ends first. A reply means MAME went on instead (the step
    failed, or the plugin did not act); it is reported as what it says."""
    bridge = emulator.bridge
    assert bridge.proc is not None
    (bridge.workdir / "stop").write_bytes(b"")
    # Long enough that the exit (at the end of MAME's current time slice) comes first
    emulator.send_step([emulator.segment((), STOP_FRAMES)], pixels=False)
    deadline = time.monotonic() + timeout
    while emulator.alive:
        if emulator.reply_ready(100):
            try:
                emulator.receive_step()
            except GymMameError as exc:
                raise GymMameError(f"MAME could not end the recording: {exc}") from None
            raise GymMameError("MAME ran the stopping step instead of ending: its "
                               f"{PLUGIN_NAME} plugin did not act (is MAME's plugin support "
                               "disabled?); the input recording is incomplete")
        if time.monotonic() > deadline:
            raise GymMameError(f"MAME did not stop within {timeout:g} s, nor answer; the "
                               "input recording may be incomplete (MAME said: "
                               f"{bridge.log_tail(5)[-400:]!r})")
    return bridge.log_tail(10_000)


def state_items(machine: str, media: dict[str, str] | None = None,
                mame: str | None = None,
                rom_paths: Sequence[str] = ()) -> list[tuple[int, int, str]]:
    """``(offset, bytes, "device item")`` of every save-state item, in state order."""
    command = MameCommand(find_mame(mame), machine, media or {}, rom_paths,
                          Path(__file__).with_name("state_items.lua"))
    with tempfile.TemporaryDirectory(prefix="gym_mame-items-") as tmp:
        out = Path(tmp) / "items.txt"
        subprocess.run(command.argv(tmp), env=command.environ({**os.environ,
                                                                "GYM_MAME_ITEMS_OUT": str(out)}),
                       cwd=tmp, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        if not out.is_file():
            return []
        items = []
        for line in out.read_text().splitlines():
            offset, size, name = line.split(" ", 2)
            items.append((int(offset), int(size), name))
        return items


def differing_items(a: Path, b: Path, items: Sequence[tuple[int, int, str]]) -> list[str]:
    """Names of the save-state items whose bytes differ between state files ``a`` and ``b``."""
    data_a = zlib.decompress(a.read_bytes()[_STATE_HEADER_BYTES:])
    data_b = zlib.decompress(b.read_bytes()[_STATE_HEADER_BYTES:])
    if len(data_a) != len(data_b):
        return ["(the states have different sizes)"]
    names = []
    for offset, size, name in items:
        if data_a[offset:offset + size] != data_b[offset:offset + size]:
            names.append(name)
    if not names and data_a != data_b:
        names.append("(unnamed bytes)")
    return names


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _final(env: MameEnv, info: dict[str, Any], state_file: Path) -> dict[str, Any]:
    """Variables, RAM and end-state checksum at the end of a play (saves the end state)."""
    ram = env.get_ram().tobytes() if env.game.ram else b""
    env.save_state(state_file)
    return {"variables": {k: int(info[k]) for k in env.game.variables},
            "ram_md5": hashlib.md5(ram).hexdigest() if ram else None,
            "end_state_md5": _md5(state_file)}


@dataclass
class Recording:
    """What :func:`record` wrote (also ``recording.json``)."""

    folder: Path
    info: dict[str, Any]


def record(game: str | os.PathLike[str], out: str | os.PathLike[str], steps: int = 300,
           agent: str = "random", seed: int = 0,
           rom_path: str | Sequence[str] | None = None, human: bool = False,
           progress: Any = None) -> Recording:
    """Play ``steps`` steps (or to the episode's end) and record them in ``out``.

    ``agent``: ``"random"`` (seeded) or ``"noop"``. ``human=True`` opens MAME's
    window at real-time speed and records the keyboard instead (needs a display;
    only inputs the integration does not hold, i.e. digital ones, respond)."""
    integration = load(game)
    folder = Path(out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name in (INP_NAME, INFO_NAME, "start.sta", "end.sta"):
        (folder / name).unlink(missing_ok=True)
    if human and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise GymMameError("--human opens MAME's window and records your keyboard, but there "
                           "is no display here (DISPLAY is not set); record an agent instead")
    args = ["-input_directory", str(folder), "-record", INP_NAME, *plugin_args()]
    with extra_mame_args(*args):
        env = MameEnv(str(integration.folder), rom_path=rom_path,
                      render_mode="human" if human else None)
    try:
        shutil.copyfile(env.emulator.state_file(START_STATE), folder / "start.sta")
        rng = np.random.default_rng(seed)
        _, info = env.reset(seed=seed)
        actions: list[int] = []
        n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
        terminated = False
        started = time.perf_counter()
        for _ in range(steps):
            action = int(rng.integers(n_actions)) if agent == "random" and not human else 0
            actions.append(action)
            _, _, terminated, _, info = env.step(action)
            if progress is not None:
                progress.update()
            if terminated:
                break
        final = _final(env, info, folder / "end.sta")
        log = stop_cleanly(env.emulator)
        seconds = time.perf_counter() - started
        mame_version = env.mame_version
    finally:
        env.close()
    inp = folder / INP_NAME
    if not inp.is_file() or inp.stat().st_size <= _INP_HEADER_BYTES:
        raise GymMameError(f"MAME did not write its input recording {inp} (MAME said: "
                           f"{log[-400:]!r}); is its plugin support ('-plugins') available?")
    analog = [i.name for i in integration.inputs.values() if i.analog]
    info_json = {
        "game": integration.name,
        "folder": str(integration.folder),
        "machine": integration.machine,
        "mame_version": mame_version,
        "agent": "human" if human else agent,
        "seed": seed,
        "steps": len(actions),
        "terminated": bool(terminated),
        "actions": actions,
        "analog_inputs": analog,
        "inp": INP_NAME,
        "seconds": round(seconds, 3),
        **final,
    }
    (folder / INFO_NAME).write_text(json.dumps(info_json, indent=1) + "\n")
    return Recording(folder, info_json)


@dataclass
class ReplayResult:
    """The outcome of :func:`replay`: ``ok`` when everything matched."""

    expected: dict[str, Any]
    got: dict[str, Any]
    inputs: str
    playback_frames: int | None
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def replay(folder: str | os.PathLike[str], rom_path: str | Sequence[str] | None = None,
           inputs: str = "auto", progress: Any = None) -> ReplayResult:
    """Replay a recording with ``-playback`` and compare the end with the recording's.

    ``inputs``: ``"inp"`` sends no actions (every input comes from the ``.inp``);
    ``"actions"`` also sends the recorded actions through the bridge, which analog
    inputs need (see the module notes); ``"auto"``: ``"actions"`` for an agent's play
    of a game with analog inputs, else ``"inp"``."""
    where = Path(folder).resolve()
    info_path = where / INFO_NAME
    if not info_path.is_file():
        raise GymMameError(f"{where} is not a recording: it has no {INFO_NAME} "
                           "(make one with gym-mame record)")
    expected = load_json(info_path)
    if inputs == "auto":
        inputs = "actions" if expected["analog_inputs"] and expected["agent"] != "human" \
            else "inp"
    if inputs not in ("inp", "actions"):
        raise ValueError(f"inputs must be 'auto', 'inp' or 'actions', not {inputs!r}")
    game = expected["folder"] if Path(expected["folder"]).is_dir() else expected["game"]
    args = ["-input_directory", str(where), "-playback", expected["inp"], *plugin_args()]
    with extra_mame_args(*args):
        env = MameEnv(game, rom_path=rom_path)
    try:
        if env.mame_version != expected["mame_version"]:
            raise GymMameError(f"the recording was made with MAME {expected['mame_version']}, "
                               f"this is {env.mame_version}: MAME recordings only replay on "
                               "the version that made them")
        _, info = env.reset(seed=expected["seed"])
        for action in expected["actions"]:
            _, _, _, _, info = env.step(action if inputs == "actions" else 0)
            if progress is not None:
                progress.update()
        end_state = where / "replay_end.sta"
        got = _final(env, info, end_state)
        log = stop_cleanly(env.emulator)
        media = dict(env.emulator.media)
        searched = [str(p) for p in env.emulator.rom_paths]
    finally:
        env.close()
    frames = re.findall(r"Total playback frames: (\d+)", log)
    result = ReplayResult(expected, got, inputs, int(frames[-1]) if frames else None)
    for name, value in expected["variables"].items():
        if got["variables"].get(name) != value:
            result.mismatches.append(f"variable {name}: recorded {value}, "
                                     f"replayed {got['variables'].get(name)}")
    if expected["ram_md5"] != got["ram_md5"]:
        result.mismatches.append("RAM differs")
    if expected["end_state_md5"] != got["end_state_md5"]:
        items = state_items(expected["machine"], media, rom_paths=searched)
        differ = differing_items(where / "end.sta", end_state, items)
        unstable = UNSTABLE_ITEMS.get(expected["machine"], ())
        real = [name for name in differ if not any(u in name for u in unstable)]
        if real:
            result.mismatches.append("end state differs in: " + ", ".join(real[:8])
                                     + (" ..." if len(real) > 8 else ""))
        else:
            result.notes.append("end state differs only in items MAME leaves "
                                "uninitialised: " + ", ".join(differ))
    return result

"""One MAME machine under the studio's control.

Everything that touches MAME goes through :attr:`Session.lock`: the bridge
is a single request/reply channel and is not thread-safe, while the web server
answers each request on its own thread and a runner thread steps the machine
in real time. Handlers take the lock for one short operation; the runner takes
it for one step at a time, so a search or a save waits at most one frame.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gym_mame import integration as integrations
from gym_mame.errors import BridgeError, GymMameError, IntegrationError
from gym_mame.integration import (
    MACHINE_NAME,
    BootStep,
    Input,
    MemoryVariable,
    Nudge,
    StateVariable,
    Variable,
)
from gym_mame.integration import write as integration_json
from gym_mame.integration.intervals import Interval
from gym_mame.integration.jsonfile import Node, dumps
from gym_mame.integration.scenario import Scenario, parse_scenario
from gym_mame.runtime.emulator import LOAD_SETTLE_FRAMES, Emulator, EmulatorStep
from gym_mame.runtime.match import Match
from gym_mame.studio import inputs as studio_inputs
from gym_mame.studio.inputs import kind
from gym_mame.studio.search import (
    Search,
    bytes_snapshot,
    memory_search,
    search_type,
    state_search,
    state_snapshot,
)

MAX_SEARCH_BYTES = 16 << 20  # one read; larger spaces are searched a range at a time
MAX_STATE_ENTRIES = 4096  # state entries read each frame for state searches
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
SLOT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
DEFAULT_SCENARIO = {"reward": {"variables": {}}, "done": {"variables": {}}}


class StudioError(GymMameError):
    """A request the studio cannot do; the message is shown on the page as is."""


@dataclass
class Slot:
    """A save state, and the inputs since power-on that led to it (None: unknown):
    boot steps in metadata.json's form."""

    name: str
    history: list[dict[str, Any]] | None
    frame: int


@dataclass
class ActiveSearch:
    kind: str  # "memory" or "state"
    search: Search
    device: str
    space: str = ""
    start: int = 0
    length: int = 0
    type: str = ""
    entries: list[str] = field(default_factory=list)


def _int(value: Any, what: str) -> int:
    """An integer from JSON: a number or a string such as "0xCC"."""
    if isinstance(value, bool):
        raise StudioError(f"{what}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip(), 0)
    except ValueError:
        raise StudioError(f"{what}: expected an integer (e.g. 204 or 0xCC), "
                          f"got {value!r}") from None


class Session:
    """A running machine: stepping, inputs, states, search, variables and scenario.

    Args:
        target: a MAME machine name (``"pong"``, ``"a2600"``) or an integration
            (name or folder) to start from.
        cart: a cartridge file (``-cart``) for a bare machine, or to replace an
            integration's.
        rom_path: ROM folders, as for :class:`gym_mame.MameEnv`.
        mame_path: the MAME executable.
    """

    def __init__(self, target: str, cart: str | None = None,
                 rom_path: str | Sequence[str] | None = None,
                 mame_path: str | None = None, timeout: float = 30.0,
                 slots: dict[str, str] | None = None) -> None:
        self.lock = threading.RLock()
        self.new_frame = threading.Condition(self.lock)
        self.target = target
        folder = integrations.find_folder(target)
        self.game = integrations.load(folder) if folder is not None else None
        self.machine = self.game.machine if self.game else target
        if self.game is None and not MACHINE_NAME.match(target):
            raise StudioError(f"{target!r} is neither an integration nor a MAME machine name "
                              "(lower-case letters, digits and _, e.g. pong or a2600)")
        # MAME slot options, e.g. paddles in an Atari 2600's first port: given, else the
        # integration's; written to metadata.json as "slots". (The Emulator checks them
        # and the cartridge file.)
        self.machine_slots = dict(slots if slots is not None else
                                  (self.game.slots if self.game is not None else {}))
        self.emulator = Emulator(self.game, machine=self.machine, cart=cart,
                                 slots=self.machine_slots, rom_path=rom_path,
                                 mame_path=mame_path, timeout=timeout)
        self.bridge = self.emulator.bridge
        self.cartridge: dict[str, Any] | None = None
        if cart:
            slot = self.game.cartridge.slot if self.game and self.game.cartridge else "cart"
            self.cartridge = _cartridge_entry(Path(self.emulator.media[slot]), slot)
        elif self.game is not None and self.game.cartridge is not None:
            # every field the loader read (a package_dir, a sha1), the defaults left out
            self.cartridge = integration_json.cartridge_json(self.game.cartridge)
        self.error = ""  # why the runner stopped, if MAME failed under it
        try:
            with self.lock:
                self.description = self.emulator.description
                self._setup()
        except BaseException:
            self.emulator.close()
            raise
        self._runner = threading.Thread(target=self._run, name="studio-runner", daemon=True)
        self._stop = threading.Event()
        self._runner.start()

    # -- set-up ----------------------------------------------------------------
    def _setup(self) -> None:
        d = self.description
        self.mame_version = self.emulator.mame_version
        known = studio_inputs.from_integration(self.game) if self.game else {}
        self.inputs = studio_inputs.from_description(d, known)
        self.emulator.inputs.update({n: i for n, i in self.inputs.items()
                                     if isinstance(i, Input)})
        self.emulator.nudges.update({n: i for n, i in self.inputs.items()
                                     if isinstance(i, Nudge)})
        self.emulator.reset_positions()
        self.keymap = studio_inputs.default_keymap(self.inputs)
        self.screen = self.game.screen if self.game and self.game.screen else ""
        self.refresh = self.emulator.refresh_rate
        # Inputs the bridge sets each frame: the integration's (so that its analog
        # values hold from power-on, as the env's boot does) and then every mapped one.
        self.active: list[str] = [n for n in known if isinstance(known[n], Input)]
        self.held: tuple[str, ...] = ()
        self.variables: dict[str, Variable] = dict(self.game.variables) if self.game else {}
        self.variable_specs: dict[str, Any] = {}
        if self.game:  # the record as the one writer writes it, not the files re-read
            self.variable_specs = integration_json.data_json(self.game)["info"]
            self.scenario_text = dumps(integration_json.scenario_json(self.game.scenario))
            self.scenario: Scenario | None = self.game.scenario
            self.metadata_base = integration_json.metadata_json(self.game)
        else:
            self.scenario_text = json.dumps(DEFAULT_SCENARIO, indent=2)
            self.scenario = parse_scenario(Node(DEFAULT_SCENARIO, Path("scenario.json")),
                                           set())
            self.metadata_base = {}
        self.match = self._match()
        self.state_entries = [(dev["tag"], name) for dev in d["devices"]
                              for name in dev.get("state", [])][:MAX_STATE_ENTRIES]
        self.running = False
        self.speed = 1.0
        self.frame = 0
        self.seq = 0
        self.pixels: tuple[int, int, bytes] | None = None
        self._encoded: dict[str, tuple[int, bytes]] = {}
        self.values: dict[str, int] = {}
        self.previous: dict[str, float] | None = None
        self.last_reward = 0.0
        self.episode_return = 0.0
        self.done = False
        self.state_values = np.zeros(0)
        self.history: list[dict[str, Any]] | None = []
        self.slots: dict[str, Slot] = {}
        self.search: ActiveSearch | None = None
        self.emulated_fps = 0.0
        self._fps_window: list[float] = []
        self._configure()
        if self.game is None or not self._start_integration():
            self._step(1)

    def _match(self) -> Match:
        """The rules of :attr:`scenario` as the env plays them (its reward and done)."""
        return Match(replace(self.emulator.game, scenario=self.scenario))

    def _start_integration(self) -> bool:
        """Begin where the integration's episodes begin, as ``env.reset()`` does: its
        start state (the shipped file, the state its boot made before, or its boot played
        now, ``until`` and all), then the frames a load settles in. False if the start
        cannot be made: the studio is where a boot gets mended, so it goes on from
        where MAME stopped and says why."""
        assert self.game is not None
        start = self.emulator.starts[0]
        try:
            self.emulator.prepare_start()
        except IntegrationError as exc:
            self.error = f"the start state could not be made: {exc}"
            self.history = None  # somewhere in the boot
            return False
        if start.file is not None and not start.boot:
            self.history = None  # a shipped state and nothing to say how it was made
        else:  # the boot, as metadata.json gives it (an "until" waits as it did)
            self.history = [integration_json.step_json(s) for s in start.boot]
            self.history.append(_boot_entry(LOAD_SETTLE_FRAMES, (), self._initial_positions(),
                                            ()))
        result = self.emulator.reset(LOAD_SETTLE_FRAMES)
        self.frame = result.frame
        self._absorb(result)
        return True

    def _initial_positions(self) -> list[tuple[str, float]]:
        """Where the analog inputs are after a reset (their initial positions)."""
        return sorted((n, float(spec.initial)) for n in self.active
                      if isinstance(spec := self.inputs[n], Input) and spec.analog)

    def _configure(self) -> None:
        """Tell the bridge which inputs each step sets and what it reads back."""
        try:
            self.emulator.configure(self.active, self.variables, self.state_entries)
        except BridgeError:
            # A state entry that cannot be read must not cost the rest: drop state search.
            self.state_entries = []
            self.emulator.configure(self.active, self.variables)

    # -- stepping --------------------------------------------------------------
    def _record(self, frames: int, held: tuple[str, ...],
                writes: tuple[tuple[int, int], ...] = ()) -> None:
        """Append to the input history since power-on (a boot sequence in the making):
        the buttons held (nudges too) from the analog positions at the step's start."""
        if self.history is None:
            return
        press = tuple(sorted(n for n in held if kind(self.inputs[n]) != "analog"))
        positions = tuple(sorted((n, self.emulator.positions[n]) for n in self.active
                                 if kind(self.inputs[n]) == "analog"))
        last = self.history[-1] if self.history else None
        if last is not None and not writes and not last.get("write") \
                and "until" not in last and last.get("press", []) == list(press):
            last["frames"] += frames  # the positions go on from where they were
        else:
            self.history.append(_boot_entry(frames, press, positions, writes))

    def _step(self, frames: int, held: tuple[str, ...] | None = None,
              want_pixels: bool = True,
              writes: tuple[tuple[int, int], ...] = ()) -> EmulatorStep:
        held = self.held if held is None else held
        self._record(frames, held, writes)
        result = self.emulator.step(held, frames, pixels=want_pixels)
        self.frame = result.frame
        self._absorb(result)
        return result

    def _absorb(self, result: EmulatorStep) -> None:
        """The step's values, reward and done as the env's step gives them (after a load
        or a reset of the return, as its reset does: the derived variables begin anew)."""
        values: dict[str, float] = dict(result.values)
        self.state_values = result.extra_state
        try:
            if self.previous is None:
                values, self.last_reward, self.done = self.match.start(values), 0.0, False
            else:
                outcome = self.match.evaluate(result.frames, self.previous)
                values, self.last_reward, self.done = (outcome.values, outcome.rewards[0],
                                                       outcome.over)
        except KeyError:  # a variable the scenario needs was just removed
            self.last_reward, self.done = 0.0, False
        self.episode_return += self.last_reward
        self.previous, self.values = values, values
        if result.pixels is not None:
            self.pixels = (result.width, result.height, bytes(result.pixels))
            self.seq += 1
            self.new_frame.notify_all()

    def _run(self) -> None:
        """The runner thread: play in real time (times ``speed``) while not paused."""
        while not self._stop.is_set():
            frames = max(1, int(self.speed))
            period = frames / (self.refresh * self.speed)
            started = time.perf_counter()
            with self.lock:
                if self.running and not self.bridge.closed:
                    try:
                        self._step(frames)
                    except Exception as exc:  # e.g. MAME died: stop, say so on the page
                        self.running = False
                        self.error = f"stopped: {exc}"
                    now = time.perf_counter()
                    self._fps_window = [t for t in self._fps_window if now - t < 1.0]
                    self._fps_window += [now] * frames
                    self.emulated_fps = float(len(self._fps_window))
            # Sleep outside the lock, so page requests get in between frames.
            time.sleep(max(0.001, period - (time.perf_counter() - started)))

    # -- operations for the page -----------------------------------------------
    def set_held(self, names: Sequence[str]) -> None:
        with self.lock:
            unknown = [n for n in names if n not in self.inputs]
            if unknown:
                raise StudioError(f"unknown input(s): {', '.join(unknown)}")
            analog = [n for n in names if kind(self.inputs[n]) == "analog"]
            if analog:
                raise StudioError(f"{', '.join(analog)} is analog: hold a nudge button for it")
            missing = []
            for n in names:
                spec = self.inputs[n]
                target = spec.target if isinstance(spec, Nudge) else n
                if target not in self.active:
                    missing.append(target)
            if missing:
                self.active += sorted(set(missing))
                self._configure()
            self.held = tuple(sorted(set(names)))

    def set_running(self, running: bool, speed: float | None = None) -> None:
        with self.lock:
            if speed is not None:
                if not 0.05 <= speed <= 16:
                    raise StudioError("speed must be between 0.05 and 16 times real time")
                self.speed = float(speed)
            self.running = running

    def step_frames(self, frames: Any) -> int:
        """Pause and run ``frames`` frames with the inputs held now; return the frame number."""
        frames = _int(frames, "frames")
        if not 1 <= frames <= 100_000:
            raise StudioError("frames must be between 1 and 100000")
        with self.lock:
            self.running = False
            self._step(frames)
            return self.frame

    def reset_return(self) -> None:
        with self.lock:
            self.episode_return = 0.0
            self.previous = None

    def save_slot(self, name: str) -> None:
        if not SLOT_NAME.match(name):
            raise StudioError("a state name is 1-32 letters, digits, - or _")
        with self.lock:
            history = None if self.history is None else [dict(h) for h in self.history]
            # MAME writes it as the next step starts (the game does not move on)
            self.emulator.save_state(f"studio-{name}")
            self.slots[name] = Slot(name, history, self.frame)

    def load_slot(self, name: str) -> None:
        with self.lock:
            slot = self.slots.get(name)
            if slot is None:
                raise StudioError(f"no saved state {name!r}; save one first")
            self.emulator.load_state(f"studio-{name}")
            self.history = None if slot.history is None else [dict(h) for h in slot.history]
            self.previous = None
            self.episode_return = 0.0
            # MAME applies a load after the current frame, and the next picture or two can
            # still be the old one (as MameEnv.reset knows): show the loaded game.
            self._step(LOAD_SETTLE_FRAMES, held=())

    # -- search ----------------------------------------------------------------
    def _space(self, device: str, space: str) -> dict[str, Any]:
        for dev in self.description["devices"]:
            if dev["tag"] == device:
                for s in dev["spaces"]:
                    if s["name"] == space:
                        return s
                names = ", ".join(s["name"] for s in dev["spaces"]) or "none"
                raise StudioError(f"device {device} has no address space {space!r} "
                                  f"(it has: {names})")
        raise StudioError(f"no device {device!r} with memory on this machine")

    def _memory_snapshot(self, a: ActiveSearch) -> np.ndarray:
        return bytes_snapshot(self.emulator.read_memory(a.device, a.space, a.start, a.length))

    def start_memory_search(self, device: str, space: str, start: Any, length: Any,
                            type_text: str) -> int:
        first, count = _int(start, "start"), _int(length, "length")
        try:
            dtype = search_type(str(type_text))
        except ValueError as exc:
            raise StudioError(str(exc)) from None
        with self.lock:
            info = self._space(device, space)
            mask = int(info.get("address_mask") or 0xFFFFFFFF)
            if first < 0 or first > mask:
                raise StudioError(f"start {first:#x} is outside the space (0 to {mask:#x})")
            if count < dtype.size or count > MAX_SEARCH_BYTES:
                raise StudioError(f"length must be {dtype.size} to {MAX_SEARCH_BYTES} bytes; "
                                  "search a large space one range at a time")
            count = min(count, mask - first + 1)
            a = ActiveSearch("memory", memory_search(b"", dtype), device, space, first,
                             count, dtype.text)
            a.search = memory_search(self._memory_snapshot(a).copy(), dtype)
            self.search = a
            return len(a.search)

    def start_state_search(self, device: str) -> int:
        with self.lock:
            entries = [n for d, n in self.state_entries if d == device]
            if not entries:
                raise StudioError(f"device {device!r} has no state entries to search")
            self.search = ActiveSearch("state", state_search(self._state_of(device)), device,
                                       entries=entries)
            return len(self.search.search)

    def _state_of(self, device: str) -> np.ndarray:
        keep = [i for i, (d, _) in enumerate(self.state_entries) if d == device]
        return self.state_values[keep] if len(self.state_values) else np.zeros(len(keep))

    def narrow(self, op: str, operand: Any = None) -> int:
        number = None if operand in (None, "") else _int(operand, "value")
        with self.lock:
            a = self._active_search()
            snapshot = (self._memory_snapshot(a) if a.kind == "memory"
                        else state_snapshot(self._state_of(a.device)))
            try:
                return a.search.narrow(snapshot, op, number)
            except ValueError as exc:
                raise StudioError(str(exc)) from None

    def undo_search(self) -> int:
        with self.lock:
            try:
                return self._active_search().search.undo()
            except ValueError as exc:
                raise StudioError(str(exc)) from None

    def _active_search(self) -> ActiveSearch:
        if self.search is None:
            raise StudioError("no search yet: start one first")
        return self.search

    def search_results(self, limit: int = 100) -> dict[str, Any]:
        with self.lock:
            if self.search is None:
                return {"active": False}
            a = self.search
            snapshot = (self._memory_snapshot(a) if a.kind == "memory"
                        else state_snapshot(self._state_of(a.device)))
            rows = []
            for c in a.search.candidates(snapshot, limit):
                where: dict[str, Any] = ({"address": a.start + c.index} if a.kind == "memory"
                                         else {"entry": a.entries[c.index]})
                rows.append({**where, "value": c.value, "previous": c.previous})
            return {"active": True, "kind": a.kind, "device": a.device, "space": a.space,
                    "type": a.type, "count": len(a.search), "steps": a.search.steps,
                    "results": rows}

    # -- variables and scenario ------------------------------------------------
    def add_variable(self, name: str, spec: dict[str, Any]) -> None:
        if not NAME.match(str(name)):
            raise StudioError("a variable name is a letter or _ then letters, digits or _")
        variable, clean = self._parse_variable(name, spec)
        with self.lock:
            old = (self.variables.get(name), self.variable_specs.get(name))
            self.variables[name], self.variable_specs[name] = variable, clean
            try:
                self._configure()
                self._step(1) if not self.running else None
            except BridgeError as exc:
                if old[0] is None:
                    del self.variables[name], self.variable_specs[name]
                else:
                    self.variables[name], self.variable_specs[name] = old  # type: ignore
                self._configure()
                raise StudioError(f"MAME cannot read {name}: {exc}") from None

    def _parse_variable(self, name: str, spec: dict[str, Any]) -> tuple[Variable, dict]:
        """The variable as the loader reads data.json, checked against this machine (its
        devices, spaces and state entries), and its data.json entry."""
        if not isinstance(spec, dict):
            raise StudioError("a variable is an object, as in data.json")
        given = {k: v for k, v in spec.items() if v not in (None, "")}  # the form's blanks
        if "address" in given:
            given.setdefault("type", "|u1")  # the form's default: one byte
        device, space = self.emulator.game.memory
        try:
            variable = integrations.parse_variable(name, given, device, space,
                                                   Path("data.json"))
        except IntegrationError as exc:
            raise StudioError(str(exc)) from None
        if isinstance(variable, MemoryVariable):
            info = self._space(variable.device, variable.space)
            mask = int(info.get("address_mask") or 0xFFFFFFFF)
            outside = [a for a in variable.addresses if not 0 <= a <= mask]
            if outside:
                raise StudioError(f"address {outside[0]:#x} is outside {variable.device} "
                                  f"{variable.space} (0 to {mask:#x})")
        elif not variable.items:
            known = {n for d, n in self.state_entries if d == variable.device}
            unknown = [e for e in variable.entries if e not in known]
            if unknown and self.state_entries:
                raise StudioError(f"device {variable.device} has no state entry "
                                  f"{unknown[0]!r}")
        return variable, _variable_spec(variable, device, space)

    def remove_variable(self, name: str) -> None:
        with self.lock:
            if name not in self.variables:
                raise StudioError(f"no variable {name!r}")
            if name in self.scenario.variables:
                raise StudioError(f"the scenario uses {name!r}; change the scenario first")
            del self.variables[name]
            self.variable_specs.pop(name, None)
            self.previous = None
            self._configure()

    def set_scenario(self, text: str) -> None:
        """Check ``text`` as scenario.json and evaluate it from now on."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StudioError(f"scenario.json is not valid JSON at line {exc.lineno}, "
                              f"column {exc.colno}: {exc.msg}") from None
        with self.lock:
            try:
                ranges = {n: Interval(*v.bounds) for n, v in self.variables.items()}
                scenario = parse_scenario(Node(document, Path("scenario.json")),
                                          set(self.variables), ranges)
            except IntegrationError as exc:
                raise StudioError(str(exc)) from None
            self.scenario, self.scenario_text = scenario, text
            self.match = self._match()
            self.episode_return, self.previous, self.done = 0.0, None, False

    # -- frames and status -----------------------------------------------------
    def frame_image(self, after: int, fmt: str = "png", wait: float = 1.0
                    ) -> tuple[int, bytes] | None:
        """The newest frame as PNG or JPEG, waiting up to ``wait`` s for one newer than
        ``after``; encoded once per frame however many pages ask. PNG is the default:
        emulated screens are flat colours, which it keeps exact and small, where
        JPEG smears the colour of thin sprites and score digits."""
        with self.new_frame:
            if self.seq <= after:
                self.new_frame.wait(wait)
            if self.pixels is None:
                return None
            cached = self._encoded.get(fmt)
            if cached is not None and cached[0] == self.seq:
                return cached
            width, height, raw = self.pixels
            seq = self.seq
        bgr = np.frombuffer(raw, np.uint8).reshape(height, width, 4)[:, :, :3]
        ext, params = ((".png", [cv2.IMWRITE_PNG_COMPRESSION, 1]) if fmt == "png"
                       else (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]))
        ok, data = cv2.imencode(ext, bgr, params)
        if not ok:
            raise StudioError("could not encode the frame")
        encoded = (seq, data.tobytes())
        with self.lock:
            self._encoded[fmt] = encoded
        return encoded

    def status(self) -> dict[str, Any]:
        with self.lock:
            search = self.search
            return {
                "machine": self.machine,
                "integration": self.game.name if self.game else None,
                "running": self.running, "speed": self.speed, "frame": self.frame,
                "seq": self.seq, "fps": round(self.emulated_fps, 1),
                "values": self.values, "reward": self.last_reward,
                "episode_return": self.episode_return, "done": self.done,
                "held": list(self.held), "slots": sorted(self.slots),
                "boot_known": self.history is not None,
                "search_count": len(search.search) if search else None,
                "error": self.error,
            }

    def describe(self) -> dict[str, Any]:
        """What the page needs to build itself: inputs, key map, spaces, devices."""
        with self.lock:
            spaces = [{"device": d["tag"], "space": s["name"],
                       "size": int(s.get("address_mask") or 0) + 1,
                       "endianness": s.get("endianness")}
                      for d in self.description["devices"] for s in d["spaces"]]
            state_devices = sorted({d for d, _ in self.state_entries})
            ram = self.game.ram if self.game else ()
            return {
                "machine": self.machine, "integration": self.game.name if self.game else None,
                "title": self.game.title if self.game else self.machine,
                "mame_version": self.mame_version,
                "inputs": [_input_entry(i) for i in self.inputs.values()],
                "keymap": self.keymap, "spaces": spaces, "state_devices": state_devices,
                "ram": [{"device": d, "space": s, "start": a, "length": n}
                        for d, s, a, n in ram],
                "variables": self.variable_specs, "scenario": self.scenario_text,
                "actions": self.default_actions(),
            }

    def default_actions(self) -> list[Any]:
        if self.game is not None:
            return self.metadata_base.get("actions") or [list(a.buttons)
                                                         for a in self.game.actions]
        mapped = [n for n in dict.fromkeys(self.keymap.values())
                  if kind(self.inputs[n]) != "analog" and "RESET" not in n
                  and "SELECT" not in n and "COIN" not in n and "START" not in n]
        return [[]] + [[n] for n in mapped]

    def close(self) -> None:
        """Stop the runner and MAME. Safe to call twice."""
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            self._runner.join(timeout=2)
        with self.lock:
            self.emulator.close()


def _boot_entry(frames: int, press: Sequence[str], positions: Sequence[tuple[str, float]],
                writes: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """A metadata.json boot step, written as the integration writer writes one."""
    return integration_json.step_json(BootStep(frames, tuple(press), tuple(positions),
                                               tuple(writes)))


def _input_entry(spec: studio_inputs.Control) -> dict[str, Any]:
    """An input as the page lists it."""
    if isinstance(spec, Nudge):
        return {"name": spec.name, "kind": "nudge", "port": "", "field": "",
                "target": spec.target}
    return {"name": spec.name, "kind": kind(spec), "port": spec.port, "field": spec.field,
            "target": ""}


def _variable_spec(variable: Variable, device: str, space: str) -> dict[str, Any]:
    """data.json's entry for ``variable``, its defaults (``device``, ``space``, weights
    1, 2, 4, ...) left out."""
    spec: dict[str, Any]
    if isinstance(variable, StateVariable):
        entries = variable.entries
        spec = {"item" if variable.items else "state":
                list(entries) if len(entries) > 1 else entries[0]}
        if variable.weights != (tuple(1 << i for i in range(len(entries)))
                                if len(entries) > 1 else (1,)):
            spec["weights"] = list(variable.weights)
        if variable.device != device:
            spec["device"] = variable.device
    else:
        spec = {"address": variable.address if variable.contiguous
                else list(variable.addresses), "type": variable.type.text}
        if variable.device != device:
            spec["device"] = variable.device
        if variable.space != space:
            spec["space"] = variable.space
        if variable.mask is not None:
            spec["mask"] = variable.mask
        if variable.shift:
            spec["shift"] = variable.shift
    if variable.range is not None:
        spec["range"] = list(variable.range)
    return spec


def _cartridge_entry(path: Path, slot: str = "cart") -> dict[str, Any]:
    """metadata.json's ``cartridge`` for a file; names the Python package that ships it
    when the file is ``<package>/roms/<file>`` of an installed distribution (as ale-py's
    Atari cartridges are), the way the loader will find it."""
    from gym_mame.integration import PACKAGE_NAME
    from gym_mame.runtime.roms import md5sum, package_files

    entry: dict[str, Any] = {"slot": slot, "file": path.name, "md5": md5sum(path)}
    package = path.parent.parent.name
    if path.parent.name == "roms" and PACKAGE_NAME.match(package) and path.resolve() in [
            p.resolve() for p in package_files(package, "roms", path.name)]:
        entry["package"] = package
    return entry

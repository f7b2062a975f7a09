"""Emulator: one MAME running one integration (or a bare machine), scripted from Python.

This is the layer every front end stands on (``MameEnv``, the vector env, the
multi-player envs, the studio and the command-line tools) and a public API of
its own, doing for gym_mame what MAMEToolkit's ``Emulator`` does for its users:
a machine with named inputs and named variables, stepped a number of frames at
a time, returning the frame and the variables' values::

    from gym_mame import Emulator

    emu = Emulator("a2600-breakout")       # an integration folder, or a bare machine:
    # Emulator(machine="a2600", cart="breakout.bin",
    #          inputs={"FIRE": (":joyport1:joy:JOY", "P1 Button 1")},
    #          variables={"score": {"address": "0xCD", "type": "|d1"}})
    step = emu.reset()                      # the integration's start state
    step = emu.step(["FIRE"], frames=4)     # hold FIRE for 4 frames
    step.values["score"], step.rgb().shape  # variables and the picture
    emu.close()

It owns: starting MAME with the integration's machine and media, what each
step reads (the read plan) and the decoding of every variable, input values by
name (digital buttons, analog controls, and nudge buttons that turn an analog
control a little each frame), the boot sequence and the start state, the
refresh rate, save states (files and in-memory clones), and stepping split
into :meth:`send_step` / :meth:`receive_step` so that one thread can drive many
emulators.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gym_mame import integration as integrations
from gym_mame.errors import IntegrationError, RomNotFoundError, SaveStateError
from gym_mame.integration import (
    BootStep,
    Bounds,
    Input,
    Integration,
    MemoryVariable,
    StateVariable,
    Variable,
    save_item_range,
)
from gym_mame.runtime import frames as framing
from gym_mame.runtime import starts
from gym_mame.runtime.roms import find_cartridge, rom_paths
from gym_mame.runtime.starts import Start
from gym_mame.wire.bridge import MameBridge
from gym_mame.wire.protocol import (
    KEEP,
    InputSpec,
    ItemRead,
    MemoryRead,
    Read,
    StateRead,
    StepResult,
)

START_STATE = "start"
# After a state load the first frames can still show the picture from before it
# (MAME applies the load between frames; pong's netlist screen takes two frames to
# redraw): episodes begin this many frames after their start state.
LOAD_SETTLE_FRAMES = 3
Segment = tuple[int, list[float]]  # frames, then per input a value (analog: position, speed)


class State:
    """A save state held for :meth:`Emulator.restore_state` (as ALE's ``cloneState``).

    A clone stays in its emulator's state folder until it is no longer referenced;
    :attr:`data` (the bytes of MAME's state file) is read when asked for, and a
    state pickles as those bytes, so that it can move to another process and be
    restored into another emulator of the same machine."""

    def __init__(self, machine: str, data: bytes | None = None,
                 emulator: Emulator | None = None, name: str = "",
                 positions: dict[str, float] | None = None) -> None:
        self.machine = machine
        # Analog inputs are set from outside the machine, so its state file lacks them.
        self.positions = dict(positions or {})
        self._data = data
        self._emulator = weakref.ref(emulator) if emulator is not None else None
        self.name = name

    @property
    def emulator(self) -> Emulator | None:
        return self._emulator() if self._emulator is not None else None

    @property
    def data(self) -> bytes:
        if self._data is None:
            emulator = self.emulator
            if emulator is None or emulator.bridge.closed:
                raise SaveStateError("the emulator this state was cloned from is closed")
            self._data = emulator._state_bytes(self.name)
        return self._data

    def __reduce__(self) -> tuple[Any, ...]:
        return (State, (self.machine, self.data, None, "", self.positions))


# struct's codes for the data.json types it unpacks directly (BCD and odd sizes it cannot)
_STRUCT_CODES = {("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q",
                 ("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q"}


@dataclass
class EmulatorStep:
    """What one step returned: the frame counter, the emulated time, every variable's
    value (after each frame too, when asked), the RAM regions, the extra state
    entries asked for, and the picture (BGRA bytes, or None)."""

    frame: int
    time: float
    values: dict[str, int]
    frames: list[dict[str, int]]  # the values after each frame (every_frame), else [values]
    ram: memoryview
    ram_frames: list[memoryview]  # the RAM after each frame (every_frame), else [ram]
    extra_state: np.ndarray
    pixels: memoryview | None
    height: int
    width: int

    def detached(self) -> EmulatorStep:
        """A copy holding its own bytes (this step's views share MAME's reply buffer),
        to keep or pickle."""
        return replace(self, values=dict(self.values), frames=[dict(f) for f in self.frames],
                       ram=memoryview(bytes(self.ram)),
                       ram_frames=[memoryview(bytes(r)) for r in self.ram_frames],
                       extra_state=self.extra_state.copy(),
                       pixels=None if self.pixels is None else memoryview(bytes(self.pixels)))

    def __reduce__(self) -> tuple[Any, ...]:  # memoryviews do not pickle: their bytes do
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("ram", "pixels"):
            fields[name] = None if fields[name] is None else bytes(fields[name])
        fields["ram_frames"] = [bytes(r) for r in self.ram_frames]
        return (_unpickled_step, (fields,))

    def bgra(self) -> np.ndarray:
        if self.pixels is None:
            raise RuntimeError("this step did not fetch the picture (pixels=False)")
        return framing.bgra_array(self.pixels, self.height, self.width)

    def rgb(self, crop: framing.Crop | None = None) -> np.ndarray:
        """The picture as H x W x 3 RGB."""
        return framing.convert(self.bgra(), crop, grayscale=False)

    def gray(self, crop: framing.Crop | None = None) -> np.ndarray:
        """The picture as H x W grayscale."""
        return framing.convert(self.bgra(), crop, grayscale=True)


class Emulator:
    """One MAME process running an integration or a bare machine.

    Args:
        game: an integration (name, folder, or a loaded :class:`Integration`);
            leave it out for a bare ``machine``.
        machine: a MAME machine name, e.g. ``"a2600"`` or ``"pong"`` (bare machine).
        cart: a cartridge file for the bare machine (or to replace the integration's).
        slots: MAME slot options, e.g. ``{"joyport1": "pad"}`` (default: the integration's).
        inputs: extra or replacing inputs by name: ``(port, field)`` for a digital
            one, or metadata.json's input form (analog, nudge).
        variables: extra or replacing variables by name, in data.json's form
            (``{"address": 204, "type": ">d2"}``, ``{"state": [...]}``).
        rom_path: folder(s) with ROM sets and cartridges (also ``$GYM_MAME_ROMPATH``).
        mame_path: MAME executable (also ``$GYM_MAME_BIN``).
        transport: ``"ipc"`` (default) or ``"tcp"`` (loopback); see :class:`MameBridge`.
        timeout: seconds MAME may take to answer before it is declared hung.
        window: open MAME's own window (needs a display) instead of running headless.
        throttle: real-time speed (default: only with a window).
        extra_args: more MAME options (for the package's tools).
        starts: the starts a reset chooses from, as a play chose them (see
            :meth:`Match.starts_for_play`); default: the integration's default start.
    """

    def __init__(
        self,
        game: str | os.PathLike[str] | Integration | None = None,
        *,
        machine: str | None = None,
        cart: str | os.PathLike[str] | None = None,
        slots: Mapping[str, str] | None = None,
        inputs: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        rom_path: str | os.PathLike[str] | Sequence[str] | None = None,
        mame_path: str | os.PathLike[str] | None = None,
        transport: str = "ipc",
        timeout: float = 30.0,
        window: bool = False,
        throttle: bool | None = None,
        extra_args: Sequence[str] = (),
        starts: Sequence[Start] | None = None,
    ) -> None:
        if game is None and machine is None:
            raise ValueError("give an integration (game=...) or a MAME machine (machine=...)")
        if isinstance(game, Integration):
            self.game = game
        elif game is not None:
            self.game = integrations.load(game)
        else:
            self.game = integrations.bare(str(machine))
        if inputs or variables:
            self.game = integrations.extended(self.game, inputs or {}, variables or {})
        # the starts a reset chooses from: this play's choice, or the integration's default
        self.starts: tuple[Start, ...] = tuple(self.game.starts if starts is None else starts)
        self.inputs: dict[str, Input] = dict(self.game.inputs)
        self.nudges = dict(self.game.nudges)
        self.variables: dict[str, Variable] = dict(self.game.variables)
        self.positions: dict[str, float] = {}
        self.rom_paths = rom_paths(rom_path)
        self.media = self._media(cart, slots)
        self.bridge = self._launch(mame_path, transport, timeout, window,
                                   window if throttle is None else throttle, extra_args)
        try:
            self._active: list[Input] = []
            self._extra_state: list[tuple[str, str]] = []
            self.configure()
            self._apply_patches()
            self.reset_positions()
            # after CONFIGURE, whose look-ups of save-state items DESCRIBE reports
            self.description: dict[str, Any] = self.bridge.describe()
            self.mame_version = str(self.description["mame_version"]).split()[0]
        except BaseException:
            self.bridge.close()
            raise
        self._start_ready = False
        self._clones = 0

    # -- set-up ----------------------------------------------------------------
    def _media(self, cart: Any, slots: Mapping[str, str] | None) -> dict[str, str]:
        media = dict(self.game.slots if slots is None else slots)
        for name, value in media.items():
            integrations.check_slot(name, value)
        if cart is not None:
            path = Path(cart).expanduser().resolve()
            if not path.is_file():
                raise RomNotFoundError(f"cartridge file {cart} does not exist")
            slot = self.game.cartridge.slot if self.game.cartridge else "cart"
            media[slot] = str(path)
        elif self.game.cartridge is not None:
            media[self.game.cartridge.slot] = str(find_cartridge(self.game.cartridge,
                                                                 self.rom_paths))
        return media

    def _apply_patches(self) -> None:
        """Replace the integration's ROM bytes (regions are not in save states, so every
        MAME process is patched, before its first boot or state load)."""
        for patch in self.game.patches:
            found = self.read_memory(patch.region, "region", patch.offset, len(patch.original))
            if found not in (patch.original, patch.data):
                raise IntegrationError(
                    f"{self.game.name}: patch at {patch.region} {patch.offset:#x} expects "
                    f"{patch.original.hex()} but the ROM has {found.hex()}: this is another "
                    "dump of the game; use the one the integration names (its checksum)")
            self.write_memory(patch.region, "region", patch.offset, patch.data)

    def _launch(self, mame_path: Any, transport: str, timeout: float, window: bool,
                throttle: bool, extra_args: Sequence[str]) -> MameBridge:
        try:
            return MameBridge(self.game.machine, media=self.media, rom_paths=self.rom_paths,
                              mame_path=mame_path, transport=transport, headless=not window,
                              throttle=throttle, timeout=timeout, extra_args=extra_args)
        except RomNotFoundError as exc:
            if self.game.rom_set is None:
                raise
            raise RomNotFoundError(
                f"{self.game.env_id} needs the MAME ROM set {self.game.rom_set!r} "
                f"({self.game.title}), which was not found or is incomplete. Looked in: "
                f"{', '.join(str(p) for p in self.rom_paths)}. Put {self.game.rom_set}.zip "
                "(and its parent set, if it is a clone) in a folder and pass "
                "rom_path='/that/folder' or set GYM_MAME_ROMPATH. gym_mame ships no "
                f"commercial ROMs. MAME said: {f'{exc.found}.' if exc.found else exc}"
            ) from None

    @property
    def refresh_rate(self) -> float:
        """Frames per emulated second of the integration's screen (or the first one)."""
        if self.game.render_fps:
            return self.game.render_fps
        for screen in self.description["screens"]:
            if screen["tag"] == self.game.screen or not self.game.screen:
                return float(screen["refresh"])
        return 60.0

    # -- what each step sets and reads -------------------------------------------
    def configure(self, inputs: Sequence[str] | None = None,
                  variables: Mapping[str, Variable] | None = None,
                  extra_state: Sequence[tuple[str, str]] = ()) -> None:
        """Choose the inputs every step sets (default: all of the integration's) and the
        variables it reads; ``extra_state`` adds raw state entries ``(device, name)``,
        returned as :attr:`EmulatorStep.extra_state`. A variable MAME cannot read fails
        here, with its name."""
        names = list(self.inputs) if inputs is None else list(inputs)
        unknown = [n for n in names if n not in self.inputs]
        if unknown:
            raise ValueError(f"unknown input(s) {', '.join(unknown)}; known: "
                             f"{', '.join(self.inputs)}")
        if variables is not None:
            self.variables = dict(variables)
        self._active = [self.inputs[n] for n in names]
        self._active_index = {inp.name: i for i, inp in enumerate(self._active)}
        self._extra_state = list(extra_state)
        reads = self._plan_reads()
        specs = [InputSpec(i.port, i.field, i.analog, i.low, i.high, i.wrap)
                 for i in self._active]
        self.bridge.configure(self.game.screen, specs, reads)
        for inp in self._active:
            if inp.analog:
                self.positions.setdefault(inp.name, float(inp.initial))

    def _plan_reads(self) -> list[Read]:
        """What each step reads: RAM regions, then memory variables outside them, then
        state entries. Each memory variable gets the offsets of its bytes in the reply."""
        reads: list[Read] = []
        self._ram_bytes = 0
        regions = []
        for device, space, start, length in self.game.ram:
            reads.append(MemoryRead(device, space, start, length, "ram"))
            regions.append((device, space, start, length, self._ram_bytes))
            self._ram_bytes += length
        offset = self._ram_bytes

        def in_ram(var: MemoryVariable, address: int) -> int | None:
            for device, space, start, length, first in regions:
                if (device, space) == (var.device, var.space) and start <= address < start + length:
                    return first + address - start
            return None

        self._memory_vars: list[tuple[MemoryVariable, slice | list[int]]] = []
        # (name, unpack_from, offset, mask, shift) of the variables struct can unpack
        self._plain_vars: list[tuple[str, Any, int, int | None, int]] = []
        self._variable_order = tuple(self.variables)
        for var in self.variables.values():
            if not isinstance(var, MemoryVariable):
                continue
            offsets = [in_ram(var, a) for a in var.addresses]
            if None in offsets and var.contiguous:
                reads.append(MemoryRead(var.device, var.space, var.address, len(offsets),
                                        var.name))
                offsets = list(range(offset, offset + len(offsets)))
                offset += len(offsets)
            for i, address in enumerate(var.addresses):
                if offsets[i] is None:
                    reads.append(MemoryRead(var.device, var.space, address, 1, var.name))
                    offsets[i] = offset
                    offset += 1
            where = [o for o in offsets if o is not None]
            code = _STRUCT_CODES.get((var.type.kind, var.type.size))
            if code is not None and where == list(range(where[0], where[0] + len(where))):
                unpack = struct.Struct((">" if var.type.big_endian else "<") + code).unpack_from
                self._plain_vars.append((var.name, unpack, where[0], var.mask, var.shift))
            elif where == list(range(where[0], where[0] + len(where))):
                self._memory_vars.append((var, slice(where[0], where[0] + len(where))))
            else:
                self._memory_vars.append((var, where))
        self._state_vars: list[tuple[StateVariable, int]] = []
        first = 0
        for var in self.variables.values():
            if isinstance(var, StateVariable):
                kind = ItemRead if var.items else StateRead
                reads += [kind(var.device, name, var.name) for name in var.entries]
                self._state_vars.append((var, first))
                first += len(var.entries)
        self._extra_first = first
        reads += [StateRead(device, name, f"{device} {name}")
                  for device, name in self._extra_state]
        return reads

    @property
    def ram_size(self) -> int:
        """Bytes of the integration's RAM regions, as each step returns them
        (:attr:`EmulatorStep.ram`)."""
        return self._ram_bytes

    def check_every_frame(self, frames: int) -> None:
        """ValueError if a step of ``frames`` frames that reads after every frame
        (``every_frame=True``) would make too big a reply."""
        self.bridge.check_every_frame(frames)

    def decode(self, memory: memoryview, state: Sequence[float]) -> dict[str, int]:
        """Every variable's value from one block of reads."""
        values = dict.fromkeys(self._variable_order, 0)  # data.json's order, whatever decodes
        # plain integers: one precompiled unpack each (this runs for every frame read)
        for name, unpack, at, mask, shift in self._plain_vars:
            value = unpack(memory, at)[0]
            values[name] = (value if mask is None else value & mask) >> shift
        for var, where in self._memory_vars:
            values[var.name] = var.decode(memory[where] if isinstance(where, slice)
                                          else bytes(memory[o] for o in where))
        for var, first in self._state_vars:
            values[var.name] = var.decode(state[first:first + len(var.entries)])
        return values

    def variable_ranges(self) -> dict[str, Bounds]:
        """Each variable's (low, high), with what MAME says of the save-state items the
        variables read (their size) and data.json's ``range``."""
        described = self.description.get("save_items") or []
        sizes = {(i["device"], i["name"]): i["size"] for i in described}
        ranges: dict[str, Bounds] = {}
        for name, var in self.variables.items():
            if not isinstance(var, StateVariable):
                ranges[name] = var.bounds
                continue
            entries = [save_item_range(sizes.get((var.device, e)) if var.items else None)
                       for e in var.entries]
            try:
                ranges[name] = var.bounds_from(entries)
            except ValueError as exc:
                raise IntegrationError(
                    f"{self.game.folder / 'data.json'}: info.{name}.range: {exc}; "
                    "correct or remove it") from None
        return ranges

    # -- inputs ----------------------------------------------------------------
    def reset_positions(self) -> None:
        """Put every analog input back at its initial position."""
        self.positions = {i.name: float(i.initial) for i in self.inputs.values() if i.analog}

    def set_analog(self, name: str, value: float) -> None:
        """Move analog input ``name`` to ``value`` (clamped to its range; a dial's
        turned round it) for the next step."""
        spec = self.inputs.get(name)
        if spec is None or not spec.analog:
            raise ValueError(f"{name!r} is not an analog input")
        if spec.wrap:
            self.positions[name] = float(spec.low + (value - spec.low) % (spec.high - spec.low + 1))
        else:
            self.positions[name] = float(min(max(value, spec.low), spec.high))

    def segment(self, held: Iterable[str | tuple[str, float]] = (), frames: int = 1,
                first: bool = True) -> Segment:
        """``frames`` frames holding the ``held`` buttons: a digital input is 1 while
        held; each held nudge turns its analog input by its speed every frame (MAME
        gets the position rounded, half to even). ``first``: the step's first segment
        starts analog inputs from :attr:`positions`; later ones go on from where the
        previous segment left them. An item of ``held`` may also be ``(analog input,
        speed)``: that input turns by ``speed`` units per frame (a continuous action)."""
        speeds: dict[str, float] = {}
        pressed = set()
        for name in held:
            if isinstance(name, tuple):
                target, speed = name
                spec = self.inputs.get(target)
                if spec is None or not spec.analog:
                    raise ValueError(f"{target!r} is not an analog input of {self.game.name}")
                speeds[target] = speeds.get(target, 0.0) + float(speed)
                continue
            nudge = self.nudges.get(name)
            if nudge is not None:
                speeds[nudge.target] = speeds.get(nudge.target, 0.0) + nudge.speed
            elif name in self.inputs and not self.inputs[name].analog:
                pressed.add(name)
            else:
                raise ValueError(f"{name!r} is not a button of {self.game.name}")
        values: list[float] = []
        for inp in self._active:
            if inp.analog:
                values += [self.positions[inp.name] if first else KEEP,
                           speeds.get(inp.name, 0.0)]
            else:
                values.append(1 if inp.name in pressed else 0)
        return frames, values

    # -- stepping --------------------------------------------------------------
    def send_step(self, segments: Sequence[Segment], pixels: bool = True,
                  every_frame: bool = False) -> None:
        """Start a step of these segments (see :meth:`segment`) without waiting."""
        self._catch_up()
        self.bridge.send_step(segments, want_pixels=pixels, want_reads=True,
                              every_frame=every_frame)

    def receive_step(self) -> EmulatorStep:
        """Wait for the step started by :meth:`send_step` and decode it."""
        return self._absorb(self.bridge.receive_step())

    # -- waiting on many emulators at once -----------------------------------------
    @property
    def poll_handle(self) -> Any:
        """What to register with a ``zmq.Poller`` (for ``zmq.POLLIN``) to learn, among
        many emulators, which has its reply ready: then :meth:`receive_step` does not
        wait. (Raises :class:`MameCrashedError` once MAME is closed.)"""
        return self.bridge.socket

    def reply_ready(self, timeout_ms: int = 0) -> bool:
        """Whether the reply to the step (or reset) sent is here, waiting at most
        ``timeout_ms`` milliseconds for it."""
        return bool(self.bridge.socket.poll(timeout_ms))

    @property
    def alive(self) -> bool:
        """Whether MAME is running (not closed, not exited)."""
        bridge = self.bridge
        return not bridge.closed and bridge.proc is not None and bridge.proc.poll() is None

    @property
    def pid(self) -> int | None:
        """MAME's process id (for measuring it), None before it started."""
        proc = self.bridge.proc
        return proc.pid if proc is not None else None

    def check_alive(self) -> None:
        """For a caller that polls many emulators: raise :class:`MameCrashedError` (MAME
        exited) or :class:`MameTimeoutError` (the reply awaited is older than the
        timeout), stopping MAME, instead of waiting on one that will never answer."""
        self.bridge.check_alive()

    def run(self, segments: Sequence[Segment], pixels: bool = True,
            every_frame: bool = False) -> EmulatorStep:
        try:
            self.send_step(segments, pixels, every_frame)
            return self.receive_step()
        except BaseException:
            self.bridge.abandon()  # e.g. Ctrl-C between the two: the next request drains
            raise

    def step(self, held: Iterable[str] = (), frames: int = 1, pixels: bool = True,
             every_frame: bool = False) -> EmulatorStep:
        """Hold ``held`` (input names) for ``frames`` frames; return what MAME shows then."""
        return self.run([self.segment(held, frames)], pixels, every_frame)

    def _absorb(self, result: StepResult) -> EmulatorStep:
        analog = [i.name for i in self._active if i.analog]
        for name, position in zip(analog, result.analog, strict=True):
            self.positions[name] = position
        blocks = result.frames or ((result.memory, result.state),)
        ram_frames = [memory[:self._ram_bytes] for memory, _ in blocks]
        per_frame = [self.decode(memory, state) for memory, state in blocks]
        extra = np.asarray(result.state[self._extra_first:], dtype=np.float64)
        return EmulatorStep(result.frame, result.emulated_time, per_frame[-1], per_frame,
                            ram_frames[-1], ram_frames, extra, result.pixels, result.height,
                            result.width)

    def _catch_up(self) -> None:
        """After an interrupted wait (Ctrl-C): take the step MAME finished meanwhile,
        so that the analog positions are where MAME left them."""
        if self.bridge.interrupted:
            result = self.bridge.drain()
            if result is not None:
                self._absorb(result)

    # -- start states and boots ---------------------------------------------------
    def boot(self, steps: Sequence[BootStep] | None = None) -> None:
        """Play a boot sequence (default: the first start's) from the current state."""
        memory = self.game.memory
        if steps is None:
            steps = self.starts[0].boot if self.starts else ()
        for step in steps:
            for address, byte in step.write:
                self.write_memory(*memory, address, bytes([byte]))
            for name, value in step.set:
                self.set_analog(name, value)
            if step.until is None:
                self.run([self.segment(step.press, step.frames)], pixels=False)
            else:
                self._boot_until(step)

    def _boot_until(self, step: BootStep) -> None:
        """Run ``step`` a frame at a time until its ``until`` holds (at most its frames)."""
        assert step.until is not None
        previous = self.run([self.segment(step.press, 1)], pixels=False).values
        for _ in range(step.frames - 1):
            if step.until.evaluate(previous, previous):
                return
            values = self.run([self.segment(step.press, 1)], pixels=False).values
            if step.until.evaluate(values, previous):
                return
            previous = values
        raise IntegrationError(
            f"{self.game.name}: the boot waited {step.frames} frames for "
            f"\"until\": {step.until.text!r} and it never held (last values: "
            + ", ".join(f"{k}={v}" for k, v in sorted(previous.items())
                        if k in step.until.names)
            + "); the game did not reach that screen: check the boot's earlier steps "
            "(their timing and buttons) and the variables' addresses, e.g. with "
            "`gym-mame validate`")

    @property
    def start_count(self) -> int:
        """How many starts a reset chooses from (``state=`` with several names)."""
        return len(self.starts)

    def prepare_start(self, rebuild: bool = False) -> None:
        """Make each start state: the integration's shipped file when this MAME made it
        (with the default options) and it checks out, else the state its boot made
        before (kept in the cache folder), else its boot played from power-on, saved
        (and cached). ``rebuild`` plays every boot again."""
        power_on = None
        for index, start in enumerate(self.starts):
            name = _start_name(index)
            if not rebuild and self._load_made(start, name):
                continue
            if not start.boot and start.file is None:  # a bare machine starts at power-on
                if index or power_on is not None:
                    raise IntegrationError(f"{self.game.name}: start {start.name!r} has "
                                           "neither a boot nor a state file")
                self.save_state(name)
                continue
            if not start.boot:
                raise IntegrationError(
                    f"{self.game.name}: start state {start.file} "
                    + ("is missing" if not start.file.is_file() else
                       f"was made by MAME {start.mame_version}, this is {self.mame_version}")
                    + " and metadata.json has no \"boot\" sequence to rebuild it")
            if power_on is not None:
                if start.boot[0].write:  # memory cannot be written while a load waits
                    raise IntegrationError(
                        f"{self.game.name}: the boot of state {start.name!r} writes memory "
                        "in its first step, which cannot follow another start's boot; begin "
                        "it with a step of frames alone (e.g. {\"frames\": 1})")
                self.load_state(power_on)
            elif index < len(self.starts) - 1:
                power_on = "power-on"  # the next boots begin here too
                self.save_state(power_on)
            self.boot(start.boot)
            self.save_state(name)
            self._cache(start, name)
        self._start_ready = True

    def _load_made(self, start: Start, name: str) -> bool:
        """Import the shipped or cached state of ``start``, if there is a good one."""
        shipped = start.file
        if shipped is not None and shipped.is_file() \
                and start.mame_version in (None, self.mame_version):
            try:
                self.bridge.import_state(shipped, name)
                return True
            except SaveStateError as exc:
                if not start.boot:
                    raise
                warnings.warn(f"{self.game.name}: {exc}; playing the boot sequence instead "
                              "(rewrite the file with `gym-mame make-state`)", stacklevel=3)
        if not start.boot:
            return False
        cached = self._cache_path(start)
        if cached.is_file():
            try:
                self.bridge.import_state(cached, name)
                return True
            except SaveStateError:
                cached.unlink(missing_ok=True)  # damaged or stale: made again below
        return False

    def _cache_path(self, start: Start) -> Path:
        media = [f"{slot}={_file_digest(value)}" for slot, value in sorted(self.media.items())]
        return starts.cache_file(self.game, start, self.mame_version, media)

    def _cache(self, start: Start, name: str) -> None:
        """Keep the state a boot made, for the next env of the same start (best effort:
        a cache folder that cannot be written only costs the next env a boot)."""
        target = self._cache_path(start)
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part",
                                             delete=False) as part:
                part.write(self._state_bytes(name))
            os.replace(part.name, target)  # atomic: envs booting together may race here
        except OSError:
            pass

    def reset(self, frames: int = LOAD_SETTLE_FRAMES, pixels: bool = True,
              start: int = 0) -> EmulatorStep:
        """Load start state ``start`` (made by :meth:`prepare_start` on first use) and
        run ``frames`` idle frames (the settle frames, plus any no-op start)."""
        self.send_reset(frames, pixels, start)
        return self.receive_step()

    def send_reset(self, frames: int = LOAD_SETTLE_FRAMES, pixels: bool = True,
                   start: int = 0) -> None:
        """:meth:`reset` without waiting for its frames (finish with :meth:`receive_step`).
        A reset starts clean: a reply still awaited (a step interrupted by Ctrl-C, or
        sent and never received) is taken and dropped first."""
        self.bridge.abandon()
        if not self._start_ready:
            self.prepare_start()
        self.load_state(_start_name(start))
        self.reset_positions()
        self.send_step([self.segment((), frames)], pixels)

    # -- save states -------------------------------------------------------------
    def save_state(self, name: str) -> None:
        """Save the state as ``name`` (in MAME's state folder) without moving on."""
        self.bridge.save_state(name)

    def load_state(self, name: str) -> None:
        """Load state ``name``; it takes effect before the next step's first frame."""
        self._catch_up()
        self.bridge.load_state(name)

    def save_state_file(self, path: str | os.PathLike[str]) -> None:
        """Write the current state to ``path`` (MAME's format), without moving on. (MAME
        runs a frame to write it and loads the saved point back: reading memory must
        then wait for the next step.)"""
        shutil.copyfile(self.state_file(self._save_named("user")), path)

    def load_state_file(self, path: str | os.PathLike[str]) -> None:
        """Load a state file (checked first to be a complete state of this machine)."""
        self.bridge.import_state(path, "user")
        self.load_state("user")

    def clone_state(self) -> State:
        """The current state (as ALE's ``cloneState``); the game does not move on."""
        self._clones += 1
        name = self._save_named(f"clone-{self._clones}")
        state = State(self.game.machine, emulator=self, name=name, positions=self.positions)
        weakref.finalize(state, _remove, self.bridge.state_path(name))
        return state

    def restore_state(self, state: State) -> None:
        """Go back to a :meth:`clone_state` (or an unpickled one of the same machine);
        it takes effect before the next step."""
        if state.machine != self.game.machine:
            raise SaveStateError(f"that state is of {state.machine}, this is "
                                 f"{self.game.machine}")
        if state.emulator is self:
            self.load_state(state.name)
        else:
            with tempfile.NamedTemporaryFile(dir=self.bridge.workdir, suffix=".sta") as f:
                f.write(state.data)
                f.flush()
                self.bridge.import_state(f.name, "restore")
            self.load_state("restore")
        self.positions.update(state.positions)

    def _save_named(self, name: str) -> str:
        self.save_state(name)
        return name

    def state_file(self, name: str) -> Path:
        """The file of a save made here, written now if MAME has not yet (MAME then
        runs a frame and loads the saved point back; memory reads wait for a step)."""
        path = self.bridge.state_path(name)
        if not path.is_file():
            self.bridge.flush()
        return path

    def _state_bytes(self, name: str) -> bytes:
        return self.state_file(name).read_bytes()

    # -- memory ------------------------------------------------------------------
    def read_memory(self, device: str, space: str, address: int, length: int) -> bytes:
        return self.bridge.read_memory(device, space, address, length)

    def write_memory(self, device: str, space: str, address: int, data: bytes) -> None:
        self.bridge.write_memory(device, space, address, data)

    def read_ram(self) -> bytes:
        """The integration's RAM regions, read now."""
        return b"".join(self.read_memory(d, s, a, n) for d, s, a, n in self.game.ram)

    # -- end ---------------------------------------------------------------------
    def close(self) -> None:
        """Stop MAME. Safe to call more than once."""
        bridge = getattr(self, "bridge", None)
        if bridge is not None:
            bridge.close()

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("an Emulator is a running MAME process and cannot be pickled; "
                        "pickle the env that owns it (MameEnv, the PettingZoo envs and "
                        "MameVectorEnv pickle as their construction and start a fresh MAME), "
                        "or a clone_state() (its save-state bytes)")

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unpickled_step(fields: dict[str, Any]) -> EmulatorStep:
    for name in ("ram", "pixels"):
        if fields[name] is not None:
            fields[name] = memoryview(fields[name])
    fields["ram_frames"] = [memoryview(r) for r in fields["ram_frames"]]
    return EmulatorStep(**fields)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _start_name(index: int) -> str:
    return START_STATE if index == 0 else f"{START_STATE}-{index}"


def _file_digest(value: str) -> str:
    """A media option as it bears on a boot: a file by its contents, else itself."""
    path = Path(value)
    if not path.is_file():
        return value
    return hashlib.sha256(path.read_bytes()).hexdigest()

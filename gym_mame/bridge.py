"""One MAME process and the ZeroMQ connection to the Lua bridge inside it.

The Python side binds a ZeroMQ PAIR socket on a private Unix-domain socket
(or loopback TCP) and starts MAME with ``lua/bridge.lua``, which connects back.
Requests are sent without blocking (:meth:`MameBridge.send`) and replies are
received separately (:meth:`MameBridge.receive`), so one thread can keep many
MAME processes busy at once: send to all, then poll their :attr:`socket`\\ s.

After each request one byte goes down MAME's stdin (the "doorbell"): the Lua
side waits on that pipe instead of polling its socket, so an idle MAME uses no
CPU, and it exits as soon as the pipe closes, i.e. when this process dies.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import ctypes
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import zmq

from gym_mame import protocol
from gym_mame.errors import (
    BridgeError,
    MameCrashedError,
    MameNotFoundError,
    MameTimeoutError,
    RomNotFoundError,
)
from gym_mame.resources import lua_dir

_POLL_SLICE_MS = 100  # how often a wait checks that MAME is still alive
_LIVE_BRIDGES: weakref.WeakSet[MameBridge] = weakref.WeakSet()
_PR_SET_PDEATHSIG = 1
_EXTRA_ARGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "gym_mame_extra_args", default=())


@contextlib.contextmanager
def extra_mame_args(*args: str) -> Iterator[None]:
    """Add MAME command-line options to every bridge started inside this block,
    including those an env starts (e.g. ``-record``/``-playback`` for input recording)."""
    token = _EXTRA_ARGS.set((*_EXTRA_ARGS.get(), *args))
    try:
        yield
    finally:
        _EXTRA_ARGS.reset(token)


def find_mame(mame_path: str | os.PathLike[str] | None = None) -> str:
    """Return the MAME executable: ``mame_path``, ``$GYM_MAME_BIN``, ``mame`` on PATH,
    then ``/usr/games/mame`` (where Debian installs it)."""
    candidates = [mame_path, os.environ.get("GYM_MAME_BIN")]
    for candidate in candidates:
        if candidate:
            path = shutil.which(str(candidate))
            if path is None:
                raise MameNotFoundError(
                    f"MAME executable {str(candidate)!r} was not found or is not executable. "
                    "Fix mame_path= / GYM_MAME_BIN, or unset it to use the system MAME."
                )
            return path
    for name in ("mame", "/usr/games/mame"):
        path = shutil.which(name)
        if path:
            return path
    raise MameNotFoundError(
        "MAME was not found: looked for 'mame' on PATH and /usr/games/mame. Install it "
        "(Debian/Ubuntu: sudo apt-get install mame) or pass mame_path= / set GYM_MAME_BIN."
    )


def _die_with_parent_hook() -> Any:
    """A preexec_fn that makes the kernel kill MAME when this thread exits.

    PR_SET_PDEATHSIG fires when the *thread* that forked dies, so it is only
    used from the main thread; the doorbell pipe covers every other case."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


class MameBridge:
    """A running MAME with the gym_mame Lua bridge.

    Args:
        system: MAME machine (driver) name, e.g. ``"pong"`` or ``"a2600"``.
        media: extra media options, e.g. ``{"cart": "/path/breakout.bin"}``.
        rom_paths: folders MAME searches for ROM sets (``-rompath``).
        mame_path: MAME executable (see :func:`find_mame`).
        transport: ``"ipc"`` (private Unix-domain socket, default) or ``"tcp"``
            (loopback only).
        headless: no window and no sound; ``False`` opens MAME's own window.
        throttle: run at real-time speed (for watching) instead of flat out.
        timeout: seconds a request may take before MAME is declared hung.
        extra_args: more MAME command-line options.
    """

    def __init__(
        self,
        system: str,
        *,
        media: dict[str, str] | None = None,
        rom_paths: Sequence[str | os.PathLike[str]] = (),
        mame_path: str | os.PathLike[str] | None = None,
        transport: str = "ipc",
        headless: bool = True,
        throttle: bool = False,
        timeout: float = 30.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        if transport not in ("ipc", "tcp"):
            raise ValueError(f"transport must be 'ipc' or 'tcp', not {transport!r}")
        self.system = system
        self.media = dict(media or {})
        self.rom_paths = [str(p) for p in rom_paths]
        self.timeout = timeout
        self.closed = False
        self.proc: subprocess.Popen[bytes] | None = None
        self._socket: zmq.Socket | None = None
        self._pending = False
        self._memory_bytes = 0
        self._state_count = 0
        executable = find_mame(mame_path)
        self.workdir = Path(tempfile.mkdtemp(prefix="gym_mame-"))  # mode 0700
        _LIVE_BRIDGES.add(self)
        try:
            self._start(executable, media or {}, transport, headless, throttle, extra_args)
            self._request(protocol.hello())
        except BaseException:
            self.close()
            raise

    # -- process ---------------------------------------------------------------
    def _start(self, executable: str, media: dict[str, str], transport: str,
               headless: bool, throttle: bool, extra_args: Sequence[str]) -> None:
        socket = zmq.Context.instance().socket(zmq.PAIR)
        socket.linger = 0
        if transport == "ipc":
            path = self.workdir / "bridge.sock"
            socket.bind(f"ipc://{path}")
            endpoint = f"domain.{path}"
        else:
            port = socket.bind_to_random_port("tcp://127.0.0.1")
            endpoint = f"socket.127.0.0.1:{port}"
        self._socket = socket

        wd = self.workdir
        cmd = [executable, self.system]
        for option, value in media.items():
            cmd += [f"-{option}", str(value)]
        cmd += [
            "-rompath", ";".join(self.rom_paths) or str(wd / "roms"),
            "-noreadconfig",  # never pick up the user's mame.ini
            "-skip_gameinfo",
            "-homepath", str(wd),
            "-cfg_directory", str(wd / "cfg"),
            "-nvram_directory", str(wd / "nvram"),
            "-state_directory", str(wd / "sta"),
            "-snapshot_directory", str(wd / "snap"),
            "-input_directory", str(wd / "inp"),
            "-diff_directory", str(wd / "diff"),
            "-autoboot_script", str(lua_dir() / "bridge.lua"),
        ]
        env = dict(os.environ)
        env.update(
            GYM_MAME_ENDPOINT=endpoint,
            GYM_MAME_LUA_DIR=str(lua_dir()),
            GYM_MAME_DOORBELL="stdin",
            SDL_AUDIODRIVER=env.get("SDL_AUDIODRIVER", "dummy"),
        )
        if headless:
            cmd += ["-video", "none", "-sound", "none"]
            env["SDL_VIDEODRIVER"] = "dummy"
        else:
            cmd += ["-window", "-sound", "none"]
        if not throttle:
            cmd.append("-nothrottle")
        cmd += [*_EXTRA_ARGS.get(), *extra_args]
        self.command = cmd
        self._log = open(wd / "mame.log", "wb")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=wd,
            preexec_fn=_die_with_parent_hook(),
        )

    def log_tail(self, lines: int = 15) -> str:
        """The last lines MAME printed (useful in error messages)."""
        try:
            text = (self.workdir / "mame.log").read_text(errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines()
                if line.strip() and "ALSA lib" not in line and "XDG_RUNTIME_DIR" not in line]
        return "\n".join(kept[-lines:])

    def _exited_error(self) -> Exception:
        assert self.proc is not None
        code = self.proc.poll()
        log = self.log_tail()
        if "Required files are missing" in log or "NOT FOUND" in log:
            missing = [line.split()[0] for line in self.log_tail(10_000).splitlines()
                       if "NOT FOUND" in line]
            searched = ", ".join(self.rom_paths) or "(no ROM path given)"
            return RomNotFoundError(
                f"MAME cannot run {self.system!r}: {len(missing)} ROM file(s) are missing "
                f"or wrong (first: {missing[0] if missing else '?'}). Searched: {searched}. "
                f"Put the ROM set (e.g. {self.system}.zip) in a folder and pass "
                "rom_path='/that/folder' or set GYM_MAME_ROMPATH."
            )
        if "Unknown system" in log or "does not exist" in log:
            return RomNotFoundError(f"MAME does not know the machine {self.system!r}.\n{log}")
        return MameCrashedError(
            f"MAME ({self.system}) exited with code {code}. Its last output:\n{log or '(none)'}"
        )

    # -- requests --------------------------------------------------------------
    @property
    def socket(self) -> zmq.Socket:
        """The ZeroMQ socket, for polling many bridges at once."""
        if self._socket is None:
            raise MameCrashedError("this MAME bridge is closed")
        return self._socket

    def send(self, request: bytes) -> None:
        """Send a request without waiting for the reply (see :meth:`receive`)."""
        if self.closed or self.proc is None:
            raise MameCrashedError(f"the MAME process for {self.system!r} is closed")
        if self._pending:
            raise RuntimeError("a reply is still pending; call receive() first")
        deadline = time.monotonic() + self.timeout
        while not self.socket.poll(_POLL_SLICE_MS, zmq.POLLOUT):  # not connected yet
            self._check_alive(deadline, "to connect")
        self.socket.send(request, copy=len(request) < 65536)
        try:
            os.write(self.proc.stdin.fileno(), b"\x01")  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            raise self._exited_error() from None
        self._pending = True

    def receive(self) -> memoryview:
        """Wait for the reply to the last request; return its body (after the status)."""
        deadline = time.monotonic() + self.timeout
        while not self.socket.poll(_POLL_SLICE_MS, zmq.POLLIN):
            self._check_alive(deadline, "to answer")
        frame = self.socket.recv(copy=False)
        self._pending = False
        body = frame.buffer
        if body[0] != protocol.STATUS_OK:
            raise BridgeError(f"MAME ({self.system}) rejected a request: "
                              f"{bytes(body[1:]).decode(errors='replace')}")
        return body[1:]

    def _check_alive(self, deadline: float, what: str) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            error = self._exited_error()
            self.close()
            raise error
        if time.monotonic() > deadline:
            self.close()
            raise MameTimeoutError(
                f"MAME ({self.system}) took more than {self.timeout:g} s {what}; it was "
                "stopped. Raise timeout= if the machine is slow to start or to run."
            )

    def _request(self, request: bytes) -> memoryview:
        self.send(request)
        return self.receive()

    # -- operations ------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Screens, input ports and fields, address spaces and state entries."""
        return json.loads(bytes(self._request(protocol.describe())))

    def configure(self, screen: str, inputs: Sequence[tuple[str, str]],
                  reads: Sequence[protocol.MemoryRead | protocol.StateRead
                                  | protocol.ItemRead]) -> None:
        """Fix the inputs a STEP sets and the values it returns (in this order)."""
        body = self._request(protocol.configure(screen, inputs, reads))
        self._memory_bytes, self._state_count = struct.unpack_from("<IH", body)

    def send_step(self, segments: Sequence[tuple[int, Sequence[int]]],
                  want_pixels: bool = True, want_reads: bool = True,
                  every_frame: bool = False) -> None:
        """Start a STEP (non-blocking); finish it with :meth:`receive_step`.
        ``every_frame`` returns the reads after each frame (``StepResult.frames``)."""
        frames = sum(n for n, _ in segments) if every_frame else 0
        self._step_wants = (want_pixels, want_reads, frames)
        self.send(protocol.step(segments, want_pixels, want_reads, every_frame))

    def receive_step(self) -> protocol.StepResult:
        want_pixels, want_reads, frames = self._step_wants
        return protocol.parse_step(self.receive(), self._memory_bytes, self._state_count,
                                   want_pixels, want_reads, frames)

    def step(self, segments: Sequence[tuple[int, Sequence[int]]],
             want_pixels: bool = True, want_reads: bool = True,
             every_frame: bool = False) -> protocol.StepResult:
        """Run the segments' frames with their input values; return the last frame."""
        self.send_step(segments, want_pixels, want_reads, every_frame)
        return self.receive_step()

    def state_path(self, name: str) -> Path:
        """Where MAME reads and writes the save state called ``name``."""
        return self.workdir / "sta" / self.system / f"{name}.sta"

    def save_state(self, name: str) -> None:
        """Schedule a save; MAME writes it before the next STEP's first frame."""
        self._request(protocol.save_state(name))

    def load_state(self, name: str) -> None:
        """Schedule a load; it takes effect before the next STEP's first frame."""
        if not self.state_path(name).is_file():
            raise FileNotFoundError(f"no save state {self.state_path(name)}")
        self._request(protocol.load_state(name))

    def read_memory(self, device: str, space: str, address: int, length: int) -> bytes:
        return bytes(self._request(protocol.read_memory(device, space, address, length)))

    def write_memory(self, device: str, space: str, address: int, data: bytes) -> None:
        self._request(protocol.write_memory(device, space, address, data))

    # -- shutdown --------------------------------------------------------------
    def close(self) -> None:
        """Stop MAME and remove its temporary folder. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None and self._socket is not None and not self._pending:
                try:  # polite first: MAME exits at once on SHUTDOWN
                    self._socket.send(protocol.shutdown(), zmq.NOBLOCK)
                    os.write(proc.stdin.fileno(), b"\x01")  # type: ignore[union-attr]
                    proc.wait(timeout=2)
                except (zmq.ZMQError, OSError, subprocess.TimeoutExpired):
                    pass
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> MameBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for bridge in list(_LIVE_BRIDGES):
        bridge.close()

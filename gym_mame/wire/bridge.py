"""One MAME process and the ZeroMQ connection to the Lua bridge inside it.

The Python side binds a ZeroMQ PAIR socket on a private Unix-domain socket
(or loopback TCP) and starts MAME with ``lua/bridge.lua``, which connects back
and proves, in the ZeroMQ handshake, the password it was given (see
:mod:`gym_mame.wire.auth`): no other process can take its place. Replies come over
that socket; requests go down MAME's stdin, a pipe only the two processes hold,
each as its length and its bytes. Requests are sent without blocking
(:meth:`MameBridge.send`) and replies are received separately
(:meth:`MameBridge.receive`), so one thread can keep many MAME processes busy
at once: send to all, then poll their :attr:`socket`\\ s.

Why requests take the pipe: MAME's Lua can block on a pipe (no CPU while it
waits, and end-of-file the moment this process dies) but can only poll its
socket. When requests came over ZeroMQ, announced by a byte on the pipe, a MAME
woken by that byte polled until ZeroMQ's I/O thread had delivered the request;
with no spare core, the polling MAMEs kept that thread from running for
milliseconds (the scheduler's slice), and on two cores two MAMEs ran one after
the other (1,400 frames/s together instead of 2,300).

MAME runs in a process group of its own (with a wrapper script, if
``mame_path`` is one, and anything that starts): stopping MAME stops the group,
Ctrl-C in a terminal reaches Python only, and a MAME whose parent died while
it ran a long step notices within a few frames (lua/parent.lua) and stops the
group itself.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import ctypes
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from gym_mame.errors import (
    BridgeError,
    GymMameError,
    MameCrashedError,
    MameNotFoundError,
    MameTimeoutError,
    RomNotFoundError,
    SaveStateError,
)
from gym_mame.wire import protocol, savestate
from gym_mame.wire.auth import authenticator
from gym_mame.wire.mamecmd import MameCommand
from gym_mame.wire.protocol import InputSpec, Read, StepResult
from gym_mame.wire.resources import lua_dir
from gym_mame.wire.workdir import PrivateDir

_POLL_SLICE_MS = 100  # how often a wait checks that MAME is still alive
_SHUTDOWN_WAIT_S = 2.0  # a polite SHUTDOWN, then the process group is killed
MAX_EVERY_FRAME_REPLY = 256 << 20  # bytes of per-frame reads one STEP may ask for
STATE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as lua/machine.lua accepts
_LIVE_BRIDGES: weakref.WeakSet[MameBridge] = weakref.WeakSet()
_PR_SET_PDEATHSIG = 1
_EXTRA_ARGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "gym_mame_extra_args", default=())


@contextlib.contextmanager
def extra_mame_args(*args: str) -> Iterator[None]:
    """Add MAME command-line options to every bridge started inside this block,
    including those an env starts (e.g. ``-record``/``-playback`` for input recording).
    For the package's own tools: these are passed as given."""
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


def process_start_time(pid: int | str = "self") -> str:
    """Field 22 of ``/proc/<pid>/stat``: with the pid, it names a process uniquely."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()[19]


def describe_exit(code: int | None) -> str:
    """``exited with code 4`` / ``was killed by SIGKILL (signal 9)``."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by {name} (signal {-code})"
    return f"exited with code {code}"


def _die_with_parent_hook() -> Any:
    """A preexec_fn that makes the kernel kill MAME when this thread exits.

    PR_SET_PDEATHSIG fires when the *thread* that forked dies, so it is only
    used from the main thread; the request pipe and the Lua side's check of its
    parent cover every other case."""
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


@dataclass
class _Request:
    """A request sent to MAME: its tag (its reply echoes it), its opcode, the bytes of it
    not yet written to the pipe, and whether its wait was given up (the reply is then
    dropped when it comes)."""

    tag: int
    opcode: bytes
    unsent: memoryview
    abandoned: bool = False


class MameBridge:
    """A running MAME with the gym_mame Lua bridge.

    Args:
        system: MAME machine (driver) name, e.g. ``"pong"`` or ``"a2600"``.
        media: slot and media options, e.g. ``{"cart": "/path/breakout.bin",
            "joyport1": "pad"}``; each must be one of the machine's own slots or
            media (checked against ``mame -listxml``), never another MAME option.
        rom_paths: folders MAME searches for ROM sets (``-rompath``).
        mame_path: MAME executable (see :func:`find_mame`).
        transport: ``"ipc"`` (private Unix-domain socket, default) or ``"tcp"``
            (loopback only). Either way only the MAME started here can join.
        headless: no window and no sound; ``False`` opens MAME's own window.
        throttle: run at real-time speed (for watching) instead of flat out.
        timeout: seconds a request may take before MAME is declared hung.
        extra_args: more MAME command-line options (for the package's tools).
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
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.system = system
        self.media = dict(media or {})
        self.rom_paths = [str(p) for p in rom_paths]
        self.timeout = timeout
        self.closed = False
        self.proc: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()
        self._socket: zmq.Socket | None = None
        self._inflight: _Request | None = None  # the request whose reply is awaited
        self._tag = 0  # of the last request sent
        self._step_layout = struct.Struct("<I")
        self._counts = (0, 0, 0)  # analog inputs, memory bytes, state values per STEP
        self._step_wants = (False, False, 0)
        self._state_format: savestate.StateFormat | None = None
        self._checked_states: dict[str, tuple[int, int]] = {}  # name -> (mtime_ns, size)
        self._own_states: set[str] = set()  # written by this MAME (the Lua side checks loads)
        self._zap_domain = ""
        self.sent_at = 0.0  # when the pending request went out (time.monotonic)
        executable = find_mame(mame_path)
        self._command = MameCommand(  # checks the machine and its media first
            executable, system, self.media, self.rom_paths, lua_dir() / "bridge.lua",
            headless=headless, throttle=throttle, extra=(*_EXTRA_ARGS.get(), *extra_args))
        self._dir = PrivateDir()
        self.workdir = self._dir.path
        _LIVE_BRIDGES.add(self)
        try:
            self._start(transport)
            version = self._unpack("<H", self._request(protocol.hello()), "HELLO")[0]
            if version != protocol.PROTOCOL_VERSION:
                raise BridgeError(f"MAME's bridge speaks protocol {version}, this gym_mame "
                                  f"{protocol.PROTOCOL_VERSION}: reinstall gym_mame")
        except BaseException:
            self.close()
            raise

    # -- process ---------------------------------------------------------------
    def _start(self, transport: str) -> None:
        auth = authenticator()
        self._zap_domain, password = auth.register()
        socket = auth.context.socket(zmq.PAIR)
        socket.linger = 0
        socket.plain_server = True
        socket.zap_domain = self._zap_domain.encode()
        if transport == "ipc":
            path = self.workdir / "bridge.sock"
            socket.bind(f"ipc://{path}")
            endpoint = f"domain.{path}"
        else:
            port = socket.bind_to_random_port("tcp://127.0.0.1")
            endpoint = f"socket.127.0.0.1:{port}"
        self._socket = socket

        wd = self.workdir
        cmd = self._command.argv(wd)
        env = self._command.environ()
        env.update(
            GYM_MAME_ENDPOINT=endpoint,
            GYM_MAME_SECRET=password,
            GYM_MAME_LUA_DIR=str(lua_dir()),
            GYM_MAME_PARENT_PID=str(os.getpid()),
            GYM_MAME_PARENT_START=process_start_time(),
            GYM_MAME_OWN_GROUP="1",
        )
        self.command = cmd
        self._log = open(wd / "mame.log", "wb")
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                env=env, cwd=wd, preexec_fn=_die_with_parent_hook(),
                start_new_session=True,  # its own process group, stopped as one
            )
        except OSError as exc:
            raise MameNotFoundError(
                f"cannot start MAME at {cmd[0]}: {exc.strerror or exc}. Point mame_path= "
                "or GYM_MAME_BIN at the MAME executable, or unset them to use the system MAME."
            ) from None

    def log_tail(self, lines: int = 15) -> str:
        """The last lines MAME printed (useful in error messages)."""
        try:
            text = (self.workdir / "mame.log").read_text(errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines()
                if line.strip() and "ALSA lib" not in line and "XDG_RUNTIME_DIR" not in line
                and "doesn't make much sense" not in line]
        return "\n".join(kept[-lines:])

    def _exited_error(self) -> Exception:
        assert self.proc is not None
        code = self.proc.poll()
        log = self.log_tail()
        if "Required files are missing" in log or "NOT FOUND" in log:
            missing = [line.split()[0] for line in self.log_tail(10_000).splitlines()
                       if "NOT FOUND" in line]
            searched = ", ".join(self.rom_paths) or "(no ROM path given)"
            found = (f"{len(missing)} ROM file(s) are missing or wrong (first: "
                     f"{missing[0] if missing else '?'})")
            return RomNotFoundError(
                f"MAME cannot run {self.system!r}: {found}. Searched: {searched}. "
                f"Put the ROM set (e.g. {self.system}.zip) in a folder and pass "
                "rom_path='/that/folder' or set GYM_MAME_ROMPATH.", found
            )
        return MameCrashedError(
            f"MAME ({self.system}) {describe_exit(code)}. Its last output:\n{log or '(none)'}",
            log)

    # -- requests --------------------------------------------------------------
    @property
    def socket(self) -> zmq.Socket:
        """The ZeroMQ socket, for polling many bridges at once."""
        if self._socket is None:
            raise MameCrashedError("this MAME bridge is closed")
        return self._socket

    @property
    def pending(self) -> bool:
        """Whether a request awaits its reply."""
        return self._inflight is not None

    @property
    def interrupted(self) -> bool:
        """Whether the wait for the pending reply was given up (Ctrl-C, :meth:`abandon`):
        the reply is then taken and dropped before the next request (see :meth:`drain`)."""
        return self._inflight is not None and self._inflight.abandoned

    def abandon(self) -> None:
        """Give up the reply still awaited, if any (a reset starts clean): it is taken and
        dropped before the next request, never read as the reply to another."""
        if self._inflight is not None:
            self._inflight.abandoned = True

    def send(self, request: bytes) -> None:
        """Send a request without waiting for the reply (see :meth:`receive`).

        After a wait that was given up (Ctrl-C, :meth:`abandon`), MAME's late reply
        is taken and dropped first (see :meth:`drain`)."""
        self._check_open()
        if self._inflight is not None:
            if not self._inflight.abandoned:
                raise RuntimeError("a reply is still pending; call receive() first")
            self.drain()
        self._post(request)

    def _check_open(self) -> None:
        if self.closed or self.proc is None:
            raise MameCrashedError(f"the MAME process for {self.system!r} is closed")

    def _post(self, request: bytes, abandoned: bool = False) -> _Request:
        """Write a request down the pipe; from its one assignment to ``_inflight`` on, it
        counts as sent, and a write cut short (Ctrl-C) is finished before the next."""
        self._tag += 1
        sent = _Request(self._tag, request[:1], memoryview(protocol.envelope(self._tag, request)),
                        abandoned)
        self._inflight = sent
        self._write(sent)
        self.sent_at = time.monotonic()
        return sent

    def _write(self, request: _Request) -> None:
        try:
            while request.unsent:  # a pipe may take a large write in parts
                request.unsent = request.unsent[os.write(
                    self.proc.stdin.fileno(), request.unsent):]  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            raise self._exited_error() from None

    def receive(self) -> memoryview:
        """Wait for the reply to the last request; return its body (after the status)."""
        awaited = self._inflight
        if awaited is None:
            raise RuntimeError("no request awaits a reply; send() one first")
        try:
            body = self._reply_to(awaited, time.monotonic() + self.timeout)
        except GymMameError:
            raise
        except BaseException:
            # Ctrl-C (or any exception a signal handler raised): MAME goes on with the
            # request (it is in a process group of its own, so Ctrl-C did not reach
            # it); its reply is taken and dropped before the next request.
            awaited.abandoned = True
            raise
        if body[0] != protocol.STATUS_OK:
            raise BridgeError(f"MAME ({self.system}) rejected a request: "
                              f"{bytes(body[1:]).decode(errors='replace')}")
        return body[1:]

    def _reply_to(self, awaited: _Request, deadline: float) -> memoryview:
        """The reply to ``awaited`` (status byte first), dropping late replies to requests
        given up before it. Any other tag is a broken peer (BridgeError)."""
        while True:
            reply = self._next_reply(deadline)
            tag, body = reply if reply is not None else (awaited.tag, memoryview(b""))
            if tag < awaited.tag:
                continue  # the late reply to a request whose wait was given up
            self._inflight = None
            if tag != awaited.tag or len(body) == 0 \
                    or body[0] not in (protocol.STATUS_OK, protocol.STATUS_ERROR):
                raise BridgeError(f"MAME ({self.system}) sent a malformed reply")
            return body

    def _next_reply(self, deadline: float) -> tuple[int, memoryview] | None:
        """The next reply's tag and body, waiting until ``deadline`` (MAME's death or
        the deadline raise); None for a reply too short to carry a tag."""
        while not self.socket.poll(_POLL_SLICE_MS, zmq.POLLIN):
            self._check_alive(deadline, "to answer")
        try:
            return protocol.split_reply(self.socket.recv(copy=False).buffer)
        except ValueError:
            return None

    def drain(self) -> StepResult | None:
        """Settle a request whose wait was given up: finish writing it if that was cut
        short, then send a HELLO and take every reply up to the HELLO's, so that nothing
        late is left. Return the given-up request's reply if it was a STEP's and came
        (a caller can then catch up with what MAME did). Interrupted itself, it leaves
        the HELLO given up, for the next call to settle."""
        owed = self._inflight
        if owed is None:
            return None
        self._check_open()
        owed.abandoned = True
        self._write(owed)
        deadline = time.monotonic() + self.timeout
        barrier = self._post(protocol.hello(), abandoned=True)
        stepped = None
        while True:
            reply = self._next_reply(deadline)
            if reply is None:
                continue  # malformed: nothing to attribute, and the barrier is still owed
            tag, body = reply
            if tag == barrier.tag:
                self._inflight = None
                return stepped
            if tag == owed.tag and owed.opcode == bytes([protocol.OP_STEP]) \
                    and body[:1] == bytes([protocol.STATUS_OK]):
                with contextlib.suppress(BridgeError):
                    stepped = self._parse_step(body[1:])

    def check_alive(self) -> None:
        """For callers that poll many bridges: raise (and stop MAME) if MAME has exited,
        or if the pending request is older than ``timeout``."""
        self._check_alive(self.sent_at + self.timeout, "to answer")

    def _check_alive(self, deadline: float, what: str) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            error = self._exited_error()
            self.close()
            raise error
        if time.monotonic() > deadline:
            refused, address = authenticator().refused(self._zap_domain)
            intruder = (f" Meanwhile {refused} connection attempt(s) without this MAME's "
                        f"credentials were refused (last from {address or 'a local socket'}):"
                        " another process tried to take its place." if refused else "")
            self.close()
            raise MameTimeoutError(
                f"MAME ({self.system}) took more than {self.timeout:g} s {what}; it was "
                f"stopped.{intruder} Raise timeout= if the machine is slow to start or to run."
            )

    def _request(self, request: bytes) -> memoryview:
        self.send(request)
        return self.receive()

    # -- operations ------------------------------------------------------------
    def _unpack(self, layout: str, body: memoryview, what: str) -> tuple[Any, ...]:
        try:
            return struct.unpack_from(layout, body)
        except struct.error:
            raise BridgeError(f"MAME ({self.system}) sent a malformed {what} reply "
                              f"({len(body)} bytes)") from None

    def describe(self) -> dict[str, Any]:
        """Screens, input ports and fields, address spaces and state entries."""
        body = bytes(self._request(protocol.describe()))
        try:
            description = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            description = None
        if not isinstance(description, dict):
            raise BridgeError(f"MAME ({self.system}) sent a malformed DESCRIBE reply")
        return description

    def configure(self, screen: str, inputs: Sequence[InputSpec], reads: Sequence[Read]) -> None:
        """Fix the inputs a STEP sets and the values it returns (in this order)."""
        body = self._request(protocol.configure(screen, inputs, reads))
        memory_bytes, state_count, n_analog = self._unpack("<IHH", body, "CONFIGURE")
        self._counts = (n_analog, memory_bytes, state_count)
        self._step_layout = protocol.segment_format(inputs)

    def send_step(self, segments: Sequence[tuple[int, Sequence[float]]],
                  want_pixels: bool = True, want_reads: bool = True,
                  every_frame: bool = False) -> None:
        """Start a STEP (non-blocking); finish it with :meth:`receive_step`.

        Each segment is ``(frames, values)``: per configured input, in order, a
        digital value, or an analog start position (``protocol.KEEP``: where it is)
        and speed per frame. ``every_frame`` returns the reads after each frame
        (``StepResult.frames``)."""
        frames = sum(n for n, _ in segments) if every_frame else 0
        self.check_every_frame(frames)
        request = protocol.step(segments, self._step_layout, want_pixels, want_reads,
                                every_frame)
        self._step_wants = (want_pixels, want_reads, frames)
        self.send(request)

    def check_every_frame(self, frames: int) -> None:
        """ValueError if ``frames`` frames of reads after every frame make too big a reply."""
        _, memory_bytes, state_count = self._counts
        if frames * (memory_bytes + 8 * state_count) > MAX_EVERY_FRAME_REPLY:
            raise ValueError(f"{frames} frames with reads after every frame would make a reply "
                             f"of more than {MAX_EVERY_FRAME_REPLY >> 20} MiB; use a smaller "
                             "frameskip")

    def receive_step(self) -> StepResult:
        return self._parse_step(self.receive())

    def _parse_step(self, body: memoryview) -> StepResult:
        want_pixels, want_reads, frames = self._step_wants
        try:
            return protocol.parse_step(body, *self._counts, want_pixels, want_reads, frames)
        except (ValueError, struct.error) as exc:
            raise BridgeError(f"MAME ({self.system}) sent a malformed STEP reply: {exc}") from None

    def step(self, segments: Sequence[tuple[int, Sequence[float]]],
             want_pixels: bool = True, want_reads: bool = True,
             every_frame: bool = False) -> StepResult:
        """Run the segments' frames with their input values; return the last frame."""
        self.send_step(segments, want_pixels, want_reads, every_frame)
        return self.receive_step()

    # -- save states -------------------------------------------------------------
    def state_path(self, name: str) -> Path:
        """Where MAME reads and writes the save state called ``name``."""
        if not STATE_NAME.match(name):
            raise ValueError(f"a save state name is 1-64 letters, digits, _ or -, not {name!r}")
        return self.workdir / "sta" / self.system / f"{name}.sta"

    def save_state(self, name: str) -> None:
        """Save the machine's state as ``name``, as it is now: MAME writes the file as
        the next STEP starts (so saving does not move the game on); :meth:`flush`
        writes it at once when the file is needed before that."""
        self.state_path(name)  # checks the name
        self._request(protocol.save_state(name))
        self._own_states.add(name)

    def flush(self) -> None:
        """Write waiting saves now (MAME runs a frame to write them, then loads the
        saved point back: the game still does not move on)."""
        self._request(protocol.flush())

    def load_state(self, name: str) -> None:
        """Load the state ``name``; it takes effect before the next STEP's first frame.

        A file this MAME did not write is first checked to be a complete state of
        this machine (:class:`SaveStateError` says why not); the next STEP fails if
        MAME did not load it after all."""
        path = self.state_path(name)
        if name not in self._own_states:
            try:
                stat = path.stat()
            except FileNotFoundError:
                raise SaveStateError(f"no save state {name!r} ({path})") from None
            if self._checked_states.get(name) != (stat.st_mtime_ns, stat.st_size):
                savestate.check(path, self.state_format())
                self._checked_states[name] = (stat.st_mtime_ns, stat.st_size)
        self._request(protocol.load_state(name))

    def import_state(self, source: str | os.PathLike[str], name: str) -> None:
        """Copy a save state file into this MAME's state folder as ``name``, after
        checking that it is a complete state of this machine."""
        savestate.check(Path(source), self.state_format())
        target = self.state_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self._own_states.discard(name)

    def state_format(self) -> savestate.StateFormat:
        """What this machine's save states look like (asked of MAME once)."""
        if self._state_format is None:
            body = bytes(self._request(protocol.state_info()))
            if len(body) != 40:
                raise BridgeError(f"MAME ({self.system}) sent a malformed STATE_INFO reply")
            self._state_format = savestate.StateFormat(body[:32],
                                                       struct.unpack_from("<Q", body, 32)[0])
        return self._state_format

    # -- memory ------------------------------------------------------------------
    def read_memory(self, device: str, space: str, address: int, length: int) -> bytes:
        return bytes(self._request(protocol.read_memory(device, space, address, length)))

    def write_memory(self, device: str, space: str, address: int, data: bytes) -> None:
        self._request(protocol.write_memory(device, space, address, data))

    # -- shutdown --------------------------------------------------------------
    def close(self) -> None:
        """Stop MAME (its whole process group) and remove its temporary folder.
        Safe to call twice; does nothing in a forked child (the parent owns MAME)."""
        if self.closed or os.getpid() != self._owner:
            return
        self.closed = True
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None and self._socket is not None and self._inflight is None:
                try:  # polite first: MAME exits at once on SHUTDOWN
                    os.write(proc.stdin.fileno(),  # type: ignore[union-attr]
                             protocol.envelope(self._tag + 1, protocol.shutdown()))
                    proc.wait(timeout=_SHUTDOWN_WAIT_S)
                except (zmq.ZMQError, OSError, subprocess.TimeoutExpired):
                    pass
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # a wrapper's children too
            proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if self._zap_domain:
            authenticator().forget(self._zap_domain)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if getattr(self, "_dir", None) is not None:
            self._dir.remove()

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
        bridge.close()  # a no-op for bridges a forked child inherited


def _forget_inherited() -> None:
    """In a forked child: the parent's bridges are the parent's to close."""
    _LIVE_BRIDGES.clear()


os.register_at_fork(after_in_child=_forget_inherited)

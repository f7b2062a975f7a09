"""The bridge itself: a real MAME process, its Lua side, real ZeroMQ."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import zmq
from processes import least_cpu_used, wait_gone

from gym_mame.errors import (
    BridgeError,
    MameCrashedError,
    MameNotFoundError,
    MameTimeoutError,
    UnknownMachineError,
)
from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge, rom_paths
from gym_mame.wire import protocol
from gym_mame.wire.bridge import MameBridge, find_mame
from gym_mame.wire.protocol import InputSpec

JOY = ":joyport1:joy:JOY"
FIRE = InputSpec(JOY, "P1 Button 1")
RESET = InputSpec(":SWB", "Reset Game")


def breakout_cart() -> str:
    return str(find_cartridge(load("a2600-breakout").cartridge, rom_paths()))


@pytest.fixture
def a2600():
    bridge = MameBridge("a2600", media={"cart": breakout_cart()})
    yield bridge
    bridge.close()


def test_describe_pong_netlist() -> None:
    with MameBridge("pong") as bridge:
        d = bridge.describe()
    assert d["system"] == "pong"
    assert d["screens"][0]["tag"] == ":screen"
    fields = {(p["tag"], f["name"]): f for p in d["ports"] for f in p["fields"]}
    paddle = fields[(":PADDLE0", "Paddle")]
    assert paddle["analog"] is True and (paddle["min"], paddle["max"]) == (0, 255)
    assert fields[(":IN0", "Coin 1")]["analog"] is False
    cpu = next(dev for dev in d["devices"] if dev["tag"] == ":maincpu")
    assert "ic_c7.QA.net" in cpu["state"] and len(cpu["state"]) > 200


def test_describe_a2600_spaces_and_ports(a2600: MameBridge) -> None:
    d = a2600.describe()
    cpu = next(dev for dev in d["devices"] if dev["tag"] == ":maincpu")
    program = next(s for s in cpu["spaces"] if s["name"] == "program")
    assert program["endianness"] == "little" and program["data_width"] == 8
    ports = {p["tag"]: {f["name"] for f in p["fields"]} for p in d["ports"]}
    assert "P1 Button 1" in ports[JOY]
    assert "Reset Game" in ports[":SWB"]


def test_step_runs_frames_and_returns_pixels_and_reads(a2600: MameBridge) -> None:
    a2600.configure("", [FIRE], [protocol.MemoryRead(":maincpu", "program", 0x80, 128)])
    first = a2600.step([(5, [0])])
    second = a2600.step([(3, [1]), (2, [0])])
    assert second.frame - first.frame == 5
    assert second.emulated_time > first.emulated_time
    assert len(second.memory) == 128
    assert second.pixels is not None
    assert len(second.pixels) == second.width * second.height * 4
    third = a2600.step([(1, [0])], want_pixels=False, want_reads=False)
    assert third.pixels is None and len(third.memory) == 0


def test_reads_every_frame_return_one_block_per_frame(a2600: MameBridge) -> None:
    a2600.configure("", [FIRE], [protocol.MemoryRead(":maincpu", "program", 0x80, 128)])
    a2600.step([(60, [0])], want_pixels=False)
    result = a2600.step([(3, [1]), (2, [0])], want_pixels=True, every_frame=True)
    assert len(result.frames) == 5
    assert all(len(memory) == 128 for memory, _ in result.frames)
    assert bytes(result.frames[-1][0]) == bytes(result.memory)
    # The RAM moves on between frames: the blocks are not five copies of the last one.
    assert len({bytes(memory) for memory, _ in result.frames}) > 1
    single = a2600.step([(5, [0])], want_pixels=False)
    assert single.frames == () and len(single.memory) == 128


def test_memory_write_then_read(a2600: MameBridge) -> None:
    a2600.write_memory(":maincpu", "program", 0xF0, b"\x12\x34")
    assert a2600.read_memory(":maincpu", "program", 0xF0, 2) == b"\x12\x34"


def test_save_and_load_state_restore_the_machine(a2600: MameBridge) -> None:
    a2600.configure("", [RESET], [protocol.MemoryRead(":maincpu", "program", 0x80, 128)])
    a2600.step([(60, [0])])
    a2600.save_state("here")
    # MAME writes the save (and later applies the load) just after a frame callback, so
    # the next frame's first lines may be drawn before it: compare the second frame.
    saved = a2600.step([(2, [0])])
    assert a2600.state_path("here").is_file()
    later = a2600.step([(8, [1]), (30, [0])])  # console reset starts a game: lives appear
    assert later.memory[0x39] == 5 and saved.memory[0x39] != 5
    a2600.load_state("here")
    again = a2600.step([(2, [0])])
    assert bytes(again.memory) == bytes(saved.memory)
    assert bytes(again.pixels) == bytes(saved.pixels)


def test_bad_requests_get_error_replies_and_the_bridge_survives(a2600: MameBridge) -> None:
    with pytest.raises(BridgeError, match="unknown input port ':NOPE'"):
        a2600.configure("", [InputSpec(":NOPE", "x")], [])
    with pytest.raises(BridgeError, match="has no field 'Jump'"):
        a2600.configure("", [InputSpec(JOY, "Jump")], [])
    with pytest.raises(BridgeError, match="no address space 'data'"):
        a2600.read_memory(":maincpu", "data", 0, 1)
    with pytest.raises(BridgeError, match="unknown request opcode 200"):
        a2600._request(bytes([200]))
    with pytest.raises(BridgeError, match="empty request"):
        a2600._request(b"")
    with pytest.raises(BridgeError):  # truncated: the Lua unpack fails cleanly
        a2600._request(bytes([protocol.OP_READ_MEMORY, 5]))
    with pytest.raises(BridgeError, match="protocol version 99"):
        a2600._request(bytes([protocol.OP_HELLO, 99, 0]))
    a2600.configure("", [FIRE], [])
    with pytest.raises(BridgeError, match="extra bytes"):
        a2600._request(protocol.step([(1, [0, 0])], protocol.segment_format([FIRE, FIRE]),
                                     True, True))
    assert a2600.step([(2, [0])]).width > 0  # still serving


def test_tcp_transport_listens_on_loopback_only() -> None:
    with MameBridge("a2600", media={"cart": breakout_cart()}, transport="tcp") as bridge:
        endpoint = bridge.socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        assert endpoint.startswith("tcp://127.0.0.1:")
        bridge.configure("", [], [])
        assert bridge.step([(2, [])]).width > 0


def test_ipc_socket_is_private() -> None:
    with MameBridge("a2600", media={"cart": breakout_cart()}) as bridge:
        assert (bridge.workdir.stat().st_mode & 0o077) == 0


def test_idle_mame_uses_no_cpu(a2600: MameBridge) -> None:
    a2600.configure("", [], [])
    a2600.step([(1, [])])
    pid = a2600.proc.pid
    time.sleep(1.0)  # start-up work finishes first (seen taking over a second under load)
    used = least_cpu_used(pid, 1.0, windows=5)  # blocked on its request pipe, not spinning
    assert min(used) < 0.05, f"MAME used {used} s of CPU per second while idle"


def test_close_is_idempotent_and_stops_mame(a2600: MameBridge) -> None:
    proc = a2600.proc
    a2600.close()
    a2600.close()
    assert proc.poll() is not None
    assert not a2600.workdir.exists()
    with pytest.raises(MameCrashedError, match="closed"):
        a2600.step([(1, [])])


def test_killed_mame_raises_quickly(a2600: MameBridge) -> None:
    a2600.configure("", [], [])
    a2600.proc.kill()
    start = time.monotonic()
    with pytest.raises(MameCrashedError, match="was killed by SIGKILL"):
        a2600.step([(10, [])])
    assert time.monotonic() - start < 3


def test_hung_mame_times_out_and_is_killed() -> None:
    bridge = MameBridge("a2600", media={"cart": breakout_cart()}, timeout=1.5)
    bridge.configure("", [], [])
    proc = bridge.proc
    os.kill(proc.pid, signal.SIGSTOP)  # alive but never answers
    start = time.monotonic()
    with pytest.raises(MameTimeoutError, match="took more than 1.5 s"):
        bridge.step([(1, [])])
    assert time.monotonic() - start < 4
    assert proc.poll() is not None


@pytest.mark.pure
def test_missing_mame_binary(monkeypatch, tmp_path) -> None:
    with pytest.raises(MameNotFoundError, match="not found"):
        find_mame(tmp_path / "no-mame")
    monkeypatch.setenv("GYM_MAME_BIN", str(tmp_path / "no-mame"))
    with pytest.raises(MameNotFoundError, match="GYM_MAME_BIN"):
        MameBridge("pong")
    monkeypatch.delenv("GYM_MAME_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    if not os.path.exists("/usr/games/mame"):
        with pytest.raises(MameNotFoundError, match="apt-get install mame"):
            find_mame()


def test_unknown_machine_is_reported() -> None:
    with pytest.raises(UnknownMachineError, match="has no machine 'no_such_machin'.*mean"):
        MameBridge("no_such_machin")


def assert_exits_soon(pid: int, seconds: float = 5) -> None:
    """Fail (and kill it) unless process ``pid`` is gone or a zombie within ``seconds``."""
    if wait_gone(pid, seconds):
        return
    os.kill(pid, signal.SIGKILL)
    pytest.fail(f"MAME {pid} outlived its Python parent")


@pytest.mark.parametrize(
    ("how", "on_thread"),
    [("SIGKILL", False), ("SIGTERM", False),
     # PR_SET_PDEATHSIG is not used off the main thread; the request pipe still works.
     ("SIGKILL", True)],
)
def test_mame_does_not_outlive_python(how: str, on_thread: bool) -> None:
    """Python dies without cleaning up: MAME must follow it within a few seconds."""
    script = textwrap.dedent(f"""
        import threading, time
        from gym_mame.wire.bridge import MameBridge
        out = []
        make = lambda: out.append(MameBridge("a2600", media={{"cart": {breakout_cart()!r}}}))
        if {on_thread!r}:
            t = threading.Thread(target=make)
            t.start(); t.join()
        else:
            make()
        b = out[0]
        b.configure("", [], [])
        b.step([(1, [])])
        print(b.proc.pid, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    mame_pid = int(child.stdout.readline())
    child.send_signal(getattr(signal, how))
    child.wait(10)
    assert_exits_soon(mame_pid)

"""Reliability suite: the package treated as an attacker, a careless user and a flaky
machine would treat it. Each test is one probe that once broke the package (real MAME,
real ZeroMQ, bounded in time): hostile neighbours, bad files, faults and lifecycles,
and fuzzing of the protocol from both ends with a fixed seed."""

from __future__ import annotations

import gc
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from processes import alive, least_cpu_used, wait_gone

from gym_mame import MameEnv
from gym_mame.errors import (
    BridgeError,
    GymMameError,
    IntegrationError,
    MameNotFoundError,
    MameTimeoutError,
    SaveStateError,
    UnknownMachineError,
)
from gym_mame.integration import load
from gym_mame.runtime.emulator import Emulator
from gym_mame.runtime.roms import find_cartridge, rom_paths
from gym_mame.wire import protocol
from gym_mame.wire.bridge import MameBridge, _Request, find_mame
from gym_mame.wire.protocol import InputSpec, MemoryRead
from gym_mame.wire.workdir import sweep_stale


def breakout_cart() -> str:
    return str(find_cartridge(load("a2600-breakout").cartridge, rom_paths()))


def mame_processes(marker: str) -> list[int]:
    """Running processes whose command line mentions ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmd and alive(int(pid)):
            found.append(int(pid))
    return found


def wrapper(tmp_path: Path, name: str, body: str) -> Path:
    """A ``mame_path`` shell script; ``$MAME`` is the real MAME. Listing commands
    (``-listxml``: gym_mame checks a machine's names before starting it) go straight on."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        MAME={find_mame()}
        case "$*" in *-autoboot_script*) ;; *) exec "$MAME" "$@";; esac
        """) + textwrap.dedent(body))
    script.chmod(0o755)
    return script


def run_child(code: str, timeout: float = 60) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True)


# -- security ------------------------------------------------------------------------
def loopback_listeners() -> set[int]:
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        address, port = local.split(":")
        if state == "0A" and address == "0100007F":
            ports.add(int(port, 16))
    return ports


class Intruder(threading.Thread):
    """Watches for a new loopback listener, as a hostile local user would, and connects
    first, once without credentials and once with a guessed password; keeps what it got."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.before = loopback_listeners()
        self.received: list[bytes] = []
        self.port = 0

    def run(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.port:
            new = loopback_listeners() - self.before
            self.port = min(new) if new else 0
            time.sleep(0.005)
        if not self.port:
            return
        ctx = zmq.Context()
        sockets = [ctx.socket(zmq.PAIR) for _ in range(2)]
        sockets[1].plain_username, sockets[1].plain_password = b"gym_mame", b"guess"
        for s in sockets:
            s.linger = 0
            s.connect(f"tcp://127.0.0.1:{self.port}")
            with_timeout = s.poll(200, zmq.POLLOUT)
            if with_timeout:
                s.send(b"\x00fake reply", zmq.NOBLOCK)
        for s in sockets:
            if s.poll(3000, zmq.POLLIN):
                self.received.append(s.recv())
        ctx.destroy(linger=0)


def test_tcp_session_cannot_be_taken_by_a_local_process(tmp_path: Path) -> None:
    slow = wrapper(tmp_path, "slow-mame", 'sleep 1.5\nexec "$MAME" "$@"\n')  # the race
    intruder = Intruder()
    intruder.start()
    with MameBridge("a2600", media={"cart": breakout_cart()}, transport="tcp",
                    mame_path=slow) as bridge:
        intruder.join(15)
        assert intruder.port, "the intruder never saw the listener"
        bridge.configure("", [], [MemoryRead(":maincpu", "program", 0x80, 128, "ram")])
        result = bridge.step([(2, [])])
        assert result.width > 0 and len(result.memory) == 128  # the real MAME answers
        assert bridge.describe()["system"] == "a2600"
    assert intruder.received == []  # nothing of the session reached the intruder


def test_a_peer_without_the_password_is_refused_and_named(tmp_path: Path) -> None:
    never = wrapper(tmp_path, "never-mame", "sleep 30\n")  # the real MAME never comes
    intruder = Intruder()
    intruder.start()
    start = time.monotonic()
    with pytest.raises(MameTimeoutError, match=r"connection attempt\(s\) without this MAME's "
                       r"credentials were refused"):
        MameBridge("a2600", media={"cart": breakout_cart()}, transport="tcp",
                   mame_path=never, timeout=4)
    assert time.monotonic() - start < 10
    assert intruder.received == []


@pytest.mark.parametrize(("key", "value", "error", "match"), [
    ("cartridge.slot", "wavwrite", UnknownMachineError, "no slot or media called 'wavwrite'"),
    ("machine", "-listxml", IntegrationError, "not a MAME machine name"),
    ("slots", {"wavwrite": "pad"}, UnknownMachineError, "no slot or media called 'wavwrite'"),
    ("slots", {"joyport1": "-listxml"}, IntegrationError, "are MAME names"),
    ("slots", {"joyport1": "wheelx"}, UnknownMachineError, "has no option 'wheelx'"),
    ("cartridge.file", "../../etc/passwd", IntegrationError, "plain file name"),
])
def test_integration_folders_cannot_pass_options_to_mame(integration_copy, tmp_path, key,
                                                         value, error, match) -> None:
    folder = integration_copy("a2600-breakout")
    meta = json.loads((folder / "metadata.json").read_text())
    target, _, field = key.partition(".")
    if field:
        meta[target][field] = value
    else:
        meta[target] = value
    (folder / "metadata.json").write_text(json.dumps(meta))
    victim = tmp_path / "victim.bin"
    victim.write_bytes(b"keep me")
    before = set(os.listdir(tmp_path))
    with pytest.raises(error, match=match):
        MameEnv(str(folder))
    assert victim.read_bytes() == b"keep me"  # -wavwrite would have overwritten it
    assert set(os.listdir(tmp_path)) == before


def test_state_names_cannot_leave_the_state_folder(tmp_path: Path) -> None:
    with MameBridge("a2600", media={"cart": breakout_cart()}) as bridge:
        bridge.configure("", [], [])
        bridge.step([(1, [])])
        for name in ("../../../escape", "/tmp/escape", "a/b", "", "x" * 65):
            with pytest.raises(BridgeError, match="save state name"):
                bridge._request(protocol.save_state(name))
            with pytest.raises(BridgeError, match="save state name"):
                bridge._request(protocol.load_state(name))
            with pytest.raises(ValueError, match="save state name"):
                bridge.save_state(name)
        bridge.step([(2, [])])  # a save would have been written now
        escaped = list(bridge.workdir.parent.glob("escape*")) + list(Path("/tmp").glob("escape*"))
        assert escaped == []


# -- nothing lost, nothing silent -----------------------------------------------------
def test_damaged_or_missing_state_files_are_refused_by_name(tmp_path: Path) -> None:
    with Emulator("a2600-breakout") as emu:
        emu.reset()
        good = tmp_path / "good.sta"
        emu.save_state_file(good)
        data = good.read_bytes()
        cases = {
            "truncated.sta": (data[:len(data) // 2], "truncated"),
            "flipped.sta": (data[:100] + bytes([data[100] ^ 0xFF]) + data[101:], "damaged"),
            "foreign.sta": (data[:10] + b"pong".ljust(18, b"\0") + data[28:], "'pong'"),
            "garbage.sta": (b"\0" * 4096, "not a MAME save state"),
        }
        for name, (content, reason) in cases.items():
            path = tmp_path / name
            path.write_bytes(content)
            with pytest.raises(SaveStateError, match=f"{name}.*{reason}"):
                emu.load_state_file(path)
        with pytest.raises(SaveStateError, match="does not exist"):
            emu.load_state_file(tmp_path / "missing.sta")
        with pytest.raises(SaveStateError, match="no save state 'nothing'"):
            emu.load_state("nothing")
        with pytest.raises(BridgeError, match="no save state 'nothing'"):
            emu.bridge._request(protocol.load_state("nothing"))  # the Lua side checks too
        emu.load_state_file(good)  # and a good one still loads
        assert emu.step().values["lives_byte"] == 5


def test_a_shipped_start_state_that_fails_falls_back_to_the_boot(integration_copy) -> None:
    folder = integration_copy("a2600-breakout")
    (folder / "start.sta").write_bytes(b"MAMESAVE\x02\x00a2600" + b"\0" * 40)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["start"].update(state="start.sta", mame_version="0.251")
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="start.sta.*playing the boot sequence instead"):
        env = MameEnv(str(folder))
    try:
        _, info = env.reset(seed=0)
        assert info["lives"] == 5  # a real start, not garbage
    finally:
        env.close()
    del meta["start"]["boot"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(SaveStateError, match="start.sta cannot be used"):
        MameEnv(str(folder))


def test_a_failing_read_is_caught_at_configure_with_its_name(integration_copy) -> None:
    folder = integration_copy("a2600-breakout")
    data = json.loads((folder / "data.json").read_text())
    data["info"]["far_away"] = {"address": "0x20000", "type": "|u1"}  # the 6507 has 8 KiB
    (folder / "data.json").write_text(json.dumps(data))
    start = time.monotonic()
    with pytest.raises(BridgeError, match="variable 'far_away': bytes 0x20000 to 0x20000 "
                                          "are outside :maincpu program"):
        MameEnv(str(folder))
    assert time.monotonic() - start < 10


def test_a_request_cut_short_never_spins_and_times_out() -> None:
    bridge = MameBridge("a2600", media={"cart": breakout_cart()}, timeout=4)
    try:
        bridge.configure("", [], [])
        bridge.step([(1, [])])
        pid = bridge.proc.pid
        # announces 100 bytes, sends 3: MAME waits for the rest, blocked, using no CPU
        bridge._tag += 1
        request = protocol.envelope(bridge._tag, b"\x04\x00\x01" + bytes(97))
        os.write(bridge.proc.stdin.fileno(), request[:12 + 3])
        bridge._inflight = _Request(bridge._tag, b"\x04", memoryview(b""))
        bridge.sent_at = time.monotonic()
        time.sleep(1.0)
        used = least_cpu_used(pid, 0.5, windows=4)  # a spinning MAME: ~0.5 s in each
        assert min(used) < 0.05, f"MAME used {used} s of CPU per 0.5 s while blocked"
        with pytest.raises(MameTimeoutError, match="took more than 4 s to answer"):
            bridge.receive()
        assert wait_gone(pid, 3)
    finally:
        bridge.close()


def test_a_lua_failure_in_the_middle_of_a_step_replies() -> None:
    with MameBridge("a2600", media={"cart": breakout_cart()}) as bridge:
        bridge.configure("", [], [])
        bridge.step([(1, [])])
        bridge.save_state("here")  # MAME writes it as the next step starts, but...
        bridge.state_path("here").mkdir(parents=True)  # ...a folder is in the way

        with pytest.raises(BridgeError, match="did not write the save state 'here'"):
            bridge.step([(2, [])])
        assert bridge.step([(2, [])]).width > 0  # and MAME serves on


def interrupt_after(seconds: float) -> None:
    def raise_interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, raise_interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def test_ctrl_c_during_a_step_leaves_the_env_usable() -> None:
    env = MameEnv("a2600-breakout", frameskip=5_000)  # a step of about a second
    try:
        env.reset(seed=0)
        interrupt_after(0.3)
        with pytest.raises(KeyboardInterrupt):
            env.step(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        with pytest.raises(RuntimeError, match="interrupted.*call reset"):
            env.step(0)
        env.frameskip = env._frameskip = 4
        obs, info = env.reset(seed=0)  # takes MAME's late reply, then starts afresh
        assert info["lives"] == 5
        obs, *_ = env.step(1)
        assert obs.shape == (210, 160, 3)
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        env.close()


# -- processes and files ---------------------------------------------------------------
def test_mame_notices_its_parent_dying_during_a_long_step() -> None:
    child = run_child(f"""
        import threading, time
        from gym_mame.wire.bridge import MameBridge
        out = []
        t = threading.Thread(target=lambda: out.append(
            MameBridge("a2600", media={{"cart": {breakout_cart()!r}}})))
        t.start(); t.join()
        b = out[0]
        b.configure("", [], [])
        print(b.proc.pid, flush=True)
        b.step([(10**9, [])])  # far longer than the test
    """)
    mame = int(child.stdout.readline())
    time.sleep(0.5)  # in the long step now
    child.kill()
    child.wait(10)
    assert wait_gone(mame, 3), "MAME outlived its parent"


def test_a_wrapper_without_exec_is_stopped_with_its_mame(tmp_path: Path) -> None:
    plain = wrapper(tmp_path, "plain-mame", '"$MAME" "$@"\n')
    bridge = MameBridge("a2600", media={"cart": breakout_cart()}, mame_path=plain, timeout=2)
    marker = str(bridge.workdir)
    bridge.configure("", [], [])
    os.kill(mame_processes(marker)[-1], signal.SIGSTOP)  # the real MAME hangs
    with pytest.raises(MameTimeoutError):
        bridge.step([(1, [])])
    deadline = time.monotonic() + 5
    while mame_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mame_processes(marker) == []


def test_a_wrappers_children_go_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    script = wrapper(tmp_path, "busy-mame", f'sleep 300 &\necho $! > {pid_file}\n'
                                            '"$MAME" "$@"\nsleep 300\n')
    with MameBridge("a2600", media={"cart": breakout_cart()}, mame_path=script) as bridge:
        bridge.configure("", [], [])
        bridge.step([(1, [])])
        helper = int(pid_file.read_text())
        assert alive(helper)
    assert wait_gone(helper, 3)
    # and when Python itself is killed, MAME stops the group it shares with them
    child = run_child(f"""
        from gym_mame.wire.bridge import MameBridge
        b = MameBridge("a2600", media={{"cart": {breakout_cart()!r}}}, mame_path={str(script)!r})
        b.configure("", [], []); b.step([(1, [])])
        print(b.workdir, flush=True)
        import time; time.sleep(60)
    """)
    marker = child.stdout.readline().strip()
    helper = int(pid_file.read_text())
    child.kill()
    child.wait(10)
    assert wait_gone(helper, 5)
    # the group's SIGKILL reaches MAME with the helper, but a big process takes longer to go
    deadline = time.monotonic() + 5
    while mame_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mame_processes(marker) == []


def test_a_forked_child_leaves_its_parents_env_alone() -> None:
    child = run_child("""
        import os, sys
        from gym_mame import MameEnv
        env = MameEnv("a2600-breakout")
        env.reset(seed=0)
        pid = os.fork()
        if pid == 0:
            sys.exit(0)  # the child's exit runs the clean-up hooks: they are not its own
        os.waitpid(pid, 0)
        alive = env.emulator.bridge.workdir.is_dir()
        _, info = env.reset(seed=1)
        env.step(1)
        print(alive, info["lives"], flush=True)
        env.close()
    """)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0 and out.split() == ["True", "5"]


def test_folders_of_killed_processes_are_swept(tmp_path: Path) -> None:
    child = run_child(f"""
        from gym_mame.wire.bridge import MameBridge
        b = MameBridge("a2600", media={{"cart": {breakout_cart()!r}}})
        print(b.workdir, flush=True)
        import time; time.sleep(60)
    """)
    folder = Path(child.stdout.readline().strip())
    child.kill()
    child.wait(10)
    assert folder.is_dir()  # kill -9 leaves it
    live = MameBridge("a2600", media={"cart": breakout_cart()})  # a living owner's folder
    try:
        time.sleep(2.2)  # folders younger than 2 s are never touched
        removed = sweep_stale(tempfile.gettempdir())
        assert folder in removed and not folder.exists()
        assert live.workdir.is_dir()
    finally:
        live.close()


def test_dropping_an_env_stops_mame_without_garbage_collection() -> None:
    gc.disable()
    try:
        env = MameEnv("a2600-breakout")
        env.reset(seed=0)
        pid = env.emulator.bridge.proc.pid
        del env
        assert wait_gone(pid, 5), "MAME waited for the garbage collector"
    finally:
        gc.enable()


# -- bad input gets a clear error -------------------------------------------------------
def test_huge_frameskips_are_bounded_and_cheap() -> None:
    with pytest.raises(ValueError, match="frameskip must be an integer from 1 to 4294967295"):
        MameEnv("pong", frameskip=2**32)
    # Breakout's rules run after every frame: 10**8 frames of reads cannot be a reply.
    with pytest.raises(ValueError, match="reads after every frame.*MiB"):
        MameEnv("a2600-breakout", frameskip=10**8)
    env = MameEnv("pong", frameskip=10**8, timeout=2)  # paddle nudges move every frame
    try:
        env.reset(seed=0)
        start = time.monotonic()
        with pytest.raises(MameTimeoutError, match="took more than 2 s"):
            env.step(1)  # one segment, not 10**8 of them
        assert time.monotonic() - start < 6
    finally:
        env.close()


@pytest.mark.parametrize("obs_size", [(0, 0), (-1, 5), (84,), (84.5, 84), "84x84"])
def test_bad_obs_size_is_refused_before_mame_starts(obs_size) -> None:
    before = len(mame_processes("autoboot_script"))
    with pytest.raises(ValueError, match="obs_size must be"):
        MameEnv("a2600-breakout", obs_size=obs_size)
    assert len(mame_processes("autoboot_script")) == before


def test_a_crop_outside_the_frame_closes_mame(integration_copy) -> None:
    folder = integration_copy("a2600-breakout")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["crop"] = [8, 13, 400, 210]
    (folder / "metadata.json").write_text(json.dumps(meta))
    before = len(mame_processes("autoboot_script"))
    with pytest.raises(ValueError, match="crop .* does not fit the 160x.* frame|does not fit"):
        MameEnv(str(folder))
    assert len(mame_processes("autoboot_script")) == before


@pytest.mark.parametrize(("file", "edit", "match"), [
    ("data.json", lambda d: d["info"].update(big={"address": 2**64, "type": "|u1"}),
     "info.big.address: must be from 0 to 2\\*\\*64 - 1"),
    ("metadata.json", lambda m: m.update(ram=[{"start": 128, "length": 2**32}]),
     "ram\\[0\\].length: must be from 1 to"),
    ("metadata.json", lambda m: m["start"]["boot"].append({"frames": 2**32}),
     "frames: must be from 1 to 4294967295"),
    ("metadata.json", lambda m: m["inputs"]["PADDLE"]["analog"].update(max=2**40),
     "min and max must be 32-bit integers"),
])
def test_out_of_range_numbers_are_refused_when_loading(integration_copy, file, edit,
                                                       match) -> None:
    folder = integration_copy("a2600-breakout")
    content = json.loads((folder / file).read_text())
    edit(content)
    (folder / file).write_text(json.dumps(content))
    with pytest.raises(IntegrationError, match=match):
        load(folder)


def test_unknown_machines_and_broken_mame_paths_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UnknownMachineError) as info:
        MameBridge("pongg")
    assert "has no machine 'pongg'" in str(info.value) and "pong" in str(info.value)
    assert len(str(info.value).splitlines()) == 1  # not MAME's list of similar names
    not_a_binary = tmp_path / "mame"
    not_a_binary.write_bytes(b"\x7fELF garbage")
    not_a_binary.chmod(0o755)
    with pytest.raises(MameNotFoundError, match="cannot run MAME at .*mame_path"):
        MameBridge("pong", mame_path=not_a_binary)
    not_executable = tmp_path / "mame2"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(MameNotFoundError, match="not found or is not executable"):
        MameBridge("pong", mame_path=not_executable)


# -- fuzzing, both ends ------------------------------------------------------------------
def test_fuzzed_requests_all_get_replies_and_mame_keeps_serving() -> None:
    rng = np.random.default_rng(20261201)
    ops = [protocol.OP_HELLO, protocol.OP_DESCRIBE, protocol.OP_CONFIGURE, protocol.OP_SAVE_STATE,
           protocol.OP_LOAD_STATE, protocol.OP_READ_MEMORY, protocol.OP_WRITE_MEMORY,
           protocol.OP_STATE_INFO, protocol.OP_FLUSH, 0, 12, 200, 255]
    inputs = [InputSpec(":joyport1:joy:JOY", "P1 Button 1")]
    layout = protocol.segment_format(inputs)
    valid_step = protocol.step([(2, [1])], layout, True, True)
    with MameBridge("a2600", media={"cart": breakout_cart()}, timeout=10) as bridge:
        bridge.configure("", inputs, [MemoryRead(":maincpu", "program", 0x80, 128, "ram")])
        answered = 0
        for _ in range(400):
            kind = rng.random()
            if kind < 0.6:
                body = bytes([int(rng.choice(ops))]) + rng.bytes(int(rng.integers(0, 40)))
            elif kind < 0.8:  # a valid STEP cut short or with extra bytes
                cut = int(rng.integers(1, len(valid_step) + 8))
                body = valid_step[:cut] + rng.bytes(max(0, cut - len(valid_step)))
            else:  # a valid STEP with one byte changed, frames kept small
                body = bytearray(valid_step)
                at = int(rng.integers(1, len(body)))
                body[at] = int(rng.integers(256))
                body[4:8] = struct.pack("<I", int(rng.integers(1, 4)))
                body = bytes(body)
            try:
                bridge._request(body)
            except BridgeError:
                pass
            answered += 1
            bridge.configure("", inputs, [MemoryRead(":maincpu", "program", 0x80, 128, "ram")])
        assert answered == 400
        result = bridge.step([(3, [0])])  # still serving, and right
        assert len(result.memory) == 128 and result.width > 0
        assert bridge.proc.poll() is None


FAKE_MAME = """\
#!{python}
# A MAME impostor that knows the password and answers HELLO, then replies garbage.
import os, random, struct, sys, zmq
if "-autoboot_script" not in sys.argv:
    os.execv({mame!r}, [{mame!r}, *sys.argv[1:]])
rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
s = zmq.Context().socket(zmq.PAIR)
s.plain_username, s.plain_password = b"gym_mame", os.environ["GYM_MAME_SECRET"].encode()
s.connect("ipc://" + os.environ["GYM_MAME_ENDPOINT"].removeprefix("domain."))
stdin = os.fdopen(0, "rb", buffering=0)
def read(n):
    data = b""
    while len(data) < n:
        chunk = stdin.read(n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
while True:
    size, tag = struct.unpack("<IQ", read(12))
    request, tag = read(size), tag.to_bytes(8, "little")
    if request[:1] == bytes([1]):
        s.send(tag + bytes([0]) + (3).to_bytes(2, "little"))
    elif request[:1] == bytes([9]):
        s.send(tag + bytes([0])); sys.exit(0)
    else:
        s.send(tag + bytes([rng.choice([0, 0, 1, 7])]) + rng.randbytes(rng.randrange(0, 60)))
"""


def test_fuzzed_replies_give_clear_errors_never_crashes_or_hangs(tmp_path: Path) -> None:
    fake = tmp_path / "fake-mame"
    fake.write_text(FAKE_MAME.format(python=sys.executable, mame=find_mame()))
    fake.chmod(0o755)
    os.environ["FUZZ_SEED"] = "7"
    inputs = [InputSpec(":joyport1:joy:JOY", "P1 Button 1")]
    reads = [MemoryRead(":maincpu", "program", 0x80, 4, "ram")]
    calls = [lambda b: b.describe(), lambda b: b.configure("", inputs, reads),
             lambda b: b.step([(1, [0])]), lambda b: b.read_memory(":maincpu", "program", 0, 4),
             lambda b: b.state_format()]
    outcomes = {"ok": 0, "error": 0}
    with MameBridge("a2600", media={"cart": breakout_cart()}, mame_path=fake,
                    timeout=5) as bridge:
        for i in range(300):
            try:
                calls[i % len(calls)](bridge)
                outcomes["ok"] += 1
            except GymMameError:
                outcomes["error"] += 1
            bridge._state_format = None
    assert outcomes["error"] > 100 and sum(outcomes.values()) == 300


# -- lifecycles --------------------------------------------------------------------------
def test_many_make_close_cycles_leave_nothing_behind() -> None:
    fds = len(os.listdir("/proc/self/fd"))
    folders = set(Path(tempfile.gettempdir()).glob("gym_mame-*"))
    pids = []
    for i in range(12):  # a descriptor kept per cycle would pass the bound below
        env = MameEnv("pong" if i % 2 else "a2600-breakout")
        env.reset(seed=i)
        env.step(0)
        pids.append(env.emulator.bridge.proc.pid)
        env.close()
    assert not [p for p in pids if alive(p)]
    assert set(Path(tempfile.gettempdir()).glob("gym_mame-*")) <= folders
    assert len(os.listdir("/proc/self/fd")) <= fds + 4  # ZeroMQ keeps a few of its own


def test_the_first_episode_is_like_every_other() -> None:
    env = MameEnv("pong")  # a netlist: frame hooks come twice for some frames
    try:
        runs = []
        for _ in range(3):
            obs, _ = env.reset(seed=3)
            seq = [obs] + [env.step(a)[0] for a in [1, 1, 2, 0, 2, 1] * 5]
            runs.append(seq)
        for other in runs[1:]:
            assert all(np.array_equal(a, b) for a, b in zip(runs[0], other, strict=True))
    finally:
        env.close()


def test_saving_does_not_move_the_game_on() -> None:
    def play(save: bool) -> list[np.ndarray]:
        env = MameEnv("a2600-breakout", frameskip=1, obs_type="ram",
                      repeat_action_probability=0.0)
        try:
            env.reset(seed=0)
            out = []
            for i, a in enumerate([1, 2, 2, 3, 0, 1, 3, 3, 2, 0] * 3):
                if save and i % 7 == 3:
                    env.emulator.clone_state()
                    env.save_state(Path(env.emulator.bridge.workdir) / "x.sta")
                out.append(env.step(a)[0])
            return out
        finally:
            env.close()

    plain, saving = play(False), play(True)
    assert all(np.array_equal(a, b) for a, b in zip(plain, saving, strict=True))


def test_clone_and_restore_replay_exactly() -> None:
    # no sticky actions: their random draws are the env's, not part of MAME's state
    env = MameEnv("a2600-breakout", obs_type="ram", repeat_action_probability=0.0)
    try:
        env.reset(seed=0)
        for a in [1, 2, 3, 2]:
            env.step(a)
        state = env.emulator.clone_state()
        first = [env.step(a)[0] for a in [1, 3, 3, 2, 2, 0]]
        env.emulator.restore_state(state)
        again = [env.step(a)[0] for a in [1, 3, 3, 2, 2, 0]]
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
        copy = pickle.loads(pickle.dumps(state))  # as it travels to another process
        env.emulator.restore_state(copy)
        assert np.array_equal(env.step(1)[0], first[0])
    finally:
        env.close()


def test_nothing_was_left_running() -> None:
    """The suite's own processes: no MAME it started is still alive."""
    time.sleep(0.5)
    mine = [p for p in mame_processes("autoboot_script")
            if Path(f"/proc/{p}/environ").read_bytes().find(
                f"GYM_MAME_PARENT_PID={os.getpid()}".encode()) >= 0]
    assert mine == []

"""A fake MAME at the protocol level: it answers gym_mame's requests as ``lua/bridge.lua``
does (requests down stdin, replies over ZeroMQ with the same PLAIN credentials), but its
"machine" is a few lines of Python, so tests of what stands above the bridge (the play
core, the Match, the studio Session, the front ends) run in milliseconds and need no MAME.

The machine, ``fakegame``: one player's position moves right or left with the inputs, the
score goes up each time it reaches a multiple of 16 moving right, a life is lost every 300
frames of play, and the game is over with the last one. Nothing counts before START is
pressed (an attract mode, for boot steps and ``until``). A second player's position moves
with its own inputs, an analog paddle is copied to RAM, and the screen shows the RAM.

Run as ``python fakemame.py fakegame <MAME options>`` (what :func:`fakemame.install`
writes a wrapper for); ``-listxml fakegame`` prints its entry as MAME would.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from pathlib import Path

import zmq

SYSTEM = "fakegame"
PROTOCOL_VERSION = 3
RAM_BASE, RAM_SIZE = 0x80, 0x80
WIDTH, HEIGHT, REFRESH = 16, 8, 60.0
# RAM layout (offsets from RAM_BASE): what the fake integration's data.json reads
X, SCORE, LIVES, OVER, STARTED, FRAME_LO, FRAME_HI, X2, SCORE2, PADDLE = range(10)
LIFE_FRAMES = 300

# port tag -> field name -> (analog, min, max, default, player)
PORTS = {
    ":P1": {"P1 Right": (False, 0, 1, 0, 0), "P1 Left": (False, 0, 1, 0, 0),
            "P1 Button 1": (False, 0, 1, 0, 0)},
    ":P2": {"P2 Right": (False, 0, 1, 0, 1), "P2 Left": (False, 0, 1, 0, 1)},
    ":IN0": {"Coin 1": (False, 0, 1, 0, 0), "1 Player Start": (False, 0, 1, 0, 0)},
    ":PADDLE": {"Paddle": (True, 0, 255, 128, 0)},
}
LISTXML = f"""<?xml version="1.0"?>
<mame build="0.251 (fake)">
  <machine name="{SYSTEM}">
    <description>Fake game (gym_mame's test machine)</description>
    <year>2026</year>
    <manufacturer>gym_mame</manufacturer>
  </machine>
</mame>
"""


class Machine:
    """The emulated game: RAM, inputs and one frame of rules."""

    def __init__(self) -> None:
        self.ram = bytearray(RAM_SIZE)
        self.ram[LIVES] = 3
        self.time = 0.0
        self.fields = {(p, f): spec[3] for p, fields in PORTS.items() for f, spec in fields.items()}
        self.coined = False

    def frame(self) -> None:
        ram, held = self.ram, self.fields
        self.time += 1 / REFRESH
        played = ram[FRAME_LO] | ram[FRAME_HI] << 8
        if not ram[STARTED]:
            self.coined |= bool(held[":IN0", "Coin 1"])
            if self.coined and held[":IN0", "1 Player Start"]:
                ram[STARTED] = 1
            return
        if ram[OVER]:
            return
        played += 1
        ram[FRAME_LO], ram[FRAME_HI] = played & 0xFF, played >> 8 & 0xFF
        move = held[":P1", "P1 Right"] - held[":P1", "P1 Left"]
        ram[X] = min(max(ram[X] + move, 0), 255)
        if move > 0 and ram[X] % 16 == 0:
            ram[SCORE] = (ram[SCORE] + 1) & 0xFF
        move2 = held[":P2", "P2 Right"] - held[":P2", "P2 Left"]
        ram[X2] = min(max(ram[X2] + move2, 0), 255)
        if move2 > 0 and ram[X2] % 16 == 0:
            ram[SCORE2] = (ram[SCORE2] + 1) & 0xFF
        ram[PADDLE] = held[":PADDLE", "Paddle"] & 0xFF
        if played % LIFE_FRAMES == 0:
            ram[LIVES] -= 1
            ram[OVER] = int(ram[LIVES] == 0)

    def pixels(self) -> bytes:
        """BGRA rows: each row shows 16 bytes of RAM as blue, the row as green."""
        out = bytearray()
        for row in range(HEIGHT):
            for col in range(WIDTH):
                out += bytes([self.ram[(row * WIDTH + col) % RAM_SIZE], row * 32, 0, 0])
        return bytes(out)

    def read(self, address: int, length: int) -> bytes:
        data = bytearray(length)
        for i in range(length):
            offset = address + i - RAM_BASE
            if 0 <= offset < RAM_SIZE:
                data[i] = self.ram[offset]
        return bytes(data)

    def write(self, address: int, data: bytes) -> None:
        for i, value in enumerate(data):
            offset = address + i - RAM_BASE
            if 0 <= offset < RAM_SIZE:
                self.ram[offset] = value

    # A save state in MAME's format: a 32-byte header, then the items compressed.
    def state(self) -> bytes:
        items = bytes(self.ram) + struct.pack("<d?", self.time, self.coined)
        return header() + zlib.compress(items)

    def restore(self, data: bytes) -> None:
        items = zlib.decompress(data[32:])
        self.ram[:] = items[:RAM_SIZE]
        self.time, self.coined = struct.unpack_from("<d?", items, RAM_SIZE)


def header() -> bytes:
    return b"MAMESAVE" + bytes([3, 0]) + SYSTEM.encode().ljust(18, b"\0") + b"FAKE"


def describe() -> dict:
    ports = [{"tag": tag, "fields": [
        {"name": name, "analog": spec[0], "type": 0, "min": spec[1], "max": spec[2],
         "default": spec[3], "player": spec[4]} for name, spec in sorted(fields.items())]}
        for tag, fields in sorted(PORTS.items())]
    return {"mame_version": "0.251 (fake)", "system": SYSTEM, "lua_version": "Python",
            "screens": [{"tag": ":screen", "width": WIDTH, "height": HEIGHT,
                         "refresh": REFRESH}],
            "ports": ports,
            "devices": [{"tag": ":maincpu", "state": ["PC"], "spaces": [
                {"name": "program", "endianness": "little", "data_width": 8,
                 "address_mask": 0x1FFF}]}],
            "save_items": []}


class Unpacker:
    """Reads a request body in order, as the Lua side's ``string.unpack`` chain does."""

    def __init__(self, body: bytes) -> None:
        self.body, self.pos = body, 1

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.body, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def text(self) -> str:
        (size,) = self.take("H")
        self.pos += size
        return self.body[self.pos - size:self.pos].decode()


class Bridge:
    """The request handlers of ``lua/bridge.lua``, on the fake machine."""

    def __init__(self, state_dir: Path) -> None:
        self.machine = Machine()
        self.state_dir = state_dir / SYSTEM
        self.frame_count = 0
        self.inputs: list[tuple[str, str, int]] = []  # port, field, kind
        self.reads: list[tuple[int, int]] = []  # address, length
        self.positions: dict[tuple[str, str], float] = {}  # analog inputs

    def handle(self, body: bytes) -> list[bytes]:
        op, request = body[0], Unpacker(body)
        if op == 1:  # HELLO
            (version,) = request.take("H")
            if version != PROTOCOL_VERSION:
                raise ValueError(f"protocol version {version} requested; this bridge speaks 3")
            return [struct.pack("<H", PROTOCOL_VERSION)]
        if op == 2:  # DESCRIBE
            return [json.dumps(describe()).encode()]
        if op == 3:
            return self.configure(request)
        if op == 4:
            return self.step(request)
        if op in (5, 6):  # SAVE_STATE, LOAD_STATE
            path = self.state_dir / f"{request.text()}.sta"
            if op == 5:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.machine.state())
            elif not path.is_file():
                raise ValueError(f"no save state '{path.stem}' ({path}) for {SYSTEM}")
            else:
                self.machine.restore(path.read_bytes())
            return []
        if op == 7:  # READ_MEMORY
            request.text(), request.text()
            address, length = request.take("QI")
            return [self.machine.read(address, length)]
        if op == 8:  # WRITE_MEMORY
            request.text(), request.text()
            address, length = request.take("QI")
            self.machine.write(address, body[request.pos:request.pos + length])
            return []
        if op == 10:  # STATE_INFO
            return [header(), struct.pack("<Q", 32 + RAM_SIZE + 9)]
        if op == 11:  # FLUSH: saves are written at once here
            return []
        raise ValueError(f"unknown request opcode {op}")

    def configure(self, request: Unpacker) -> list[bytes]:
        screen = request.text()
        if screen not in ("", ":screen"):
            raise ValueError(f"unknown screen '{screen}'")
        inputs = []
        for _ in range(request.take("H")[0]):
            port, field = request.text(), request.text()
            kind, _low, _high = request.take("Bii")
            if field not in PORTS.get(port, {}):
                raise ValueError(f"input port '{port}' has no field '{field}'")
            inputs.append((port, field, kind))
        reads = []
        for _ in range(request.take("H")[0]):
            kind = request.take("B")[0]
            label, _device = request.text(), request.text()
            if kind != 1:
                raise ValueError(f"variable '{label}': the fake machine has no state entries")
            request.text()
            reads.append(request.take("QI"))
        self.inputs, self.reads = inputs, reads
        self.positions = {(p, f): float(PORTS[p][f][3]) for p, f, kind in inputs if kind}
        analog = len(self.positions)
        return [struct.pack("<IHH", sum(n for _, n in reads), 0, analog)]

    def step(self, request: Unpacker) -> list[bytes]:
        flags, count = request.take("BH")
        reads = []
        for _ in range(count):
            (frames,) = request.take("I")
            speeds = {}
            for port, field, kind in self.inputs:
                if kind == 0:
                    self.machine.fields[port, field] = request.take("i")[0]
                    continue
                start, speeds[port, field] = request.take("dd")
                if start == start:  # NaN: where it is
                    self.positions[port, field] = min(max(start, 0.0), 255.0)
            for _ in range(frames):  # analog inputs move before each frame, as in Lua
                for key, speed in speeds.items():
                    self.positions[key] = min(max(self.positions[key] + speed, 0.0), 255.0)
                    self.machine.fields[key] = round(self.positions[key])
                self.machine.frame()
                self.frame_count += 1
                if flags & 4:
                    reads.append(self.read_all())
        parts = [struct.pack("<Qd", self.frame_count, self.machine.time)]
        parts += [struct.pack("<d", self.positions[p, f]) for p, f, kind in self.inputs if kind]
        if flags & 4:
            parts += reads
        elif flags & 2:
            parts.append(self.read_all())
        if flags & 1:
            parts += [struct.pack("<HH", WIDTH, HEIGHT), self.machine.pixels()]
        return parts

    def read_all(self) -> bytes:
        return b"".join(self.machine.read(a, n) for a, n in self.reads)


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def serve(argv: list[str]) -> None:
    endpoint = os.environ["GYM_MAME_ENDPOINT"]
    socket = zmq.Context.instance().socket(zmq.PAIR)
    socket.linger = 1000
    socket.plain_username, socket.plain_password = b"gym_mame", os.environ[
        "GYM_MAME_SECRET"].encode()
    if endpoint.startswith("domain."):
        socket.connect("ipc://" + endpoint.removeprefix("domain."))
    else:
        socket.connect("tcp://" + endpoint.removeprefix("socket."))
    bridge = Bridge(Path(option(argv, "-state_directory")))
    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(12)
        if len(head) < 12:
            return  # the Python side closed the pipe: it exited or died
        size, tag = struct.unpack("<IQ", head)
        body = stdin.read(size)
        try:
            if body[:1] == b"\x09":  # SHUTDOWN
                socket.send(struct.pack("<QB", tag, 0))
                return
            parts = bridge.handle(body)
            socket.send(struct.pack("<QB", tag, 0) + b"".join(parts))
        except (ValueError, KeyError, struct.error, zlib.error) as exc:
            socket.send(struct.pack("<QB", tag, 1) + str(exc).encode())


def main(argv: list[str]) -> int:
    if "-listxml" in argv:
        asked = argv[argv.index("-listxml") + 1] if len(argv) > argv.index("-listxml") + 1 \
            else SYSTEM
        print(LISTXML if asked == SYSTEM else '<?xml version="1.0"?>\n<mame/>')
        return 0
    if "-listfull" in argv:
        print(f'Name:             Description:\n{SYSTEM:18}"Fake game"')
        return 0
    if not argv or argv[0] != SYSTEM:
        print(f"Unknown system '{argv[0] if argv else ''}'", file=sys.stderr)
        return 1
    serve(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

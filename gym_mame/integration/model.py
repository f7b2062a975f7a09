"""The integration record: what one game's folder says, as frozen dataclasses.

:func:`gym_mame.integration.load` makes it from a folder (``parse``), and
:func:`gym_mame.integration.write.write_folder` makes a folder of it (``write``).
The starts' parts (named states, game options, the starts an env plays from) are here
too, so that the record needs nothing above it (``gym_mame.runtime.starts`` chooses among them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_mame.integration import intervals
from gym_mame.integration.datatypes import DataType
from gym_mame.integration.expressions import Expression
from gym_mame.integration.folders import scenario_names
from gym_mame.integration.intervals import UNBOUNDED, Interval, Number
from gym_mame.integration.scenario import PlayerRules, Scenario

Bounds = tuple[Number, Number]  # low, high; ±inf where unbounded
DEFAULT_STATE = "start"  # the name of metadata.json's "start"


@dataclass(frozen=True)
class MemoryVariable:
    """``type`` decoded from the bytes at ``addresses`` of ``device``'s ``space``, in
    that order (consecutive addresses unless data.json lists them), then ANDed with
    ``mask`` and shifted right by ``shift``. ``range`` is data.json's narrower range."""

    name: str
    device: str
    space: str
    addresses: tuple[int, ...]
    type: DataType
    mask: int | None = None
    shift: int = 0
    range: tuple[int, int] | None = None

    @property
    def address(self) -> int:
        return self.addresses[0]

    @property
    def contiguous(self) -> bool:
        return self.addresses == tuple(range(self.address, self.address + len(self.addresses)))

    def decode(self, raw: bytes | memoryview) -> int:
        value = self.type.decode(raw)
        if self.mask is not None:
            value &= self.mask
        return value >> self.shift

    @property
    def bounds(self) -> Bounds:
        """Smallest and largest value :meth:`decode` can return."""
        values = Interval(*self.type.bounds)
        if self.mask is not None:
            values = intervals.bit_and(values, Interval.point(self.mask))
        return _narrowed(intervals.rshift(values, Interval.point(self.shift)), self.range)


@dataclass(frozen=True)
class StateVariable:
    """Sum of ``weight * round(value)`` over state entries (e.g. a TTL counter's bit nets)
    or save-state items; ``range`` is data.json's narrower range."""

    name: str
    device: str
    entries: tuple[str, ...]
    weights: tuple[int, ...]
    items: bool = False  # entries are save-state items, not state entries
    range: tuple[int, int] | None = None

    def decode(self, values: tuple[float, ...] | list[float]) -> int:
        return sum(w * round(v) for w, v in zip(self.weights, values, strict=True))

    def bounds_from(self, entries: Sequence[Interval]) -> Bounds:
        """The weighted sum's range, from each entry's own range (interval arithmetic:
        weights may be negative), narrowed by ``range``; ValueError if they are apart."""
        total = Interval(0, 0)
        for weight, entry in zip(self.weights, entries, strict=True):
            total = intervals.add(total, intervals.mul(Interval.point(weight), entry))
        return _narrowed(total, self.range)

    @property
    def bounds(self) -> Bounds:
        """What is known without MAME's word on the entries: ``range``, or unbounded."""
        return self.bounds_from([UNBOUNDED] * len(self.entries))


def save_item_range(size: int | None) -> Interval:
    """The values a MAME save-state item holds: MAME 0.251's ``emu.item(h):read(0)``
    reads ``size`` bytes as unsigned, 8 as a Lua integer (signed 64 bits), and it
    reaches Python as a double (so 2**63 - 1 arrives as 2**63). None: not known."""
    if size is None:
        return UNBOUNDED
    if size >= 8:
        return Interval(-(1 << 63), 1 << 63)
    return Interval(0, (1 << (8 * size)) - 1)


def _narrowed(values: Interval, declared: tuple[int, int] | None) -> Bounds:
    if declared is None:
        return values.low, values.high
    low, high = max(values.low, declared[0]), min(values.high, declared[1])
    if low > high:
        raise ValueError(f"range [{declared[0]}, {declared[1]}] lies outside the values "
                         f"{values} it can take")
    return low, high


Variable = MemoryVariable | StateVariable


@dataclass(frozen=True)
class Input:
    """A MAME input field; ``analog`` inputs hold a value in ``[low, high]``.

    A ``wrap`` input is a dial (a spinner, a relative control): its position turns
    round the range, ``high + 1`` being ``low`` again, and the game reads how far it
    moved. ``max_speed`` (units per frame) bounds it under ``action_type="continuous"``;
    None keeps the input out of that action space."""

    name: str
    port: str
    field: str
    analog: bool = False
    low: int = 0
    high: int = 1
    initial: int = 0
    wrap: bool = False
    max_speed: float | None = None

    @property
    def dial_limit(self) -> int:
        """The most a dial may turn in one frame and still be read the right way round:
        a game sees the change modulo the range, so half of it or more is ambiguous."""
        return (self.high - self.low) // 2


@dataclass(frozen=True)
class Nudge:
    """A button that moves analog input ``target`` by ``speed`` per frame while held
    (fractions accumulate; MAME gets the rounded position)."""

    name: str
    target: str
    speed: float


@dataclass(frozen=True)
class Action:
    """A named button combination (no buttons = NOOP)."""

    name: str
    buttons: tuple[str, ...]


@dataclass(frozen=True)
class BootStep:
    """Write ``write`` bytes (address, value) to the integration's memory, put analog
    inputs at their ``set`` positions, then run ``frames`` frames holding the ``press``
    buttons (a nudge among them turns its analog input each frame).

    With ``until`` (an expression over data.json variables), the frames run one at a
    time and the step ends at the first frame where it holds; ``frames`` is then the
    most it may take (a boot that never sees it fails, naming the step)."""

    frames: int
    press: tuple[str, ...] = ()
    set: tuple[tuple[str, float], ...] = ()
    write: tuple[tuple[int, int], ...] = ()
    until: Expression | None = None

    def __repr__(self) -> str:
        """The fields metadata.json gave, as it gives them: ``BootStep(frames=4,
        press=['RESET'])`` (what ``list_options()`` and a game's states show)."""
        parts = [f"frames={self.frames}"]
        if self.press:
            parts.append(f"press={list(self.press)!r}")
        if self.set:
            parts.append(f"set={dict(self.set)!r}")
        if self.write:
            parts.append(f"write={ {hex(a): b for a, b in self.write}!r}")
        if self.until is not None:
            parts.append(f"until={self.until.text!r}")
        return f"BootStep({', '.join(parts)})"


@dataclass(frozen=True)
class Opponent:
    """A built-in player on analog input ``input`` that follows a variable.

    Each frame the input moves toward ``scale * variable + offset`` by at most
    ``speed``, so it can be beaten by play that outpaces it."""

    input: str
    follow: str
    scale: float
    offset: float
    speed: float
    description: str


@dataclass(frozen=True)
class PlayerSpec:
    """One player of a multi-player game: which inputs its action set's buttons press
    (``buttons``: the set's button -> this player's input; one not listed is itself),
    and its own action set, if it is not the game's."""

    buttons: dict[str, str]
    actions: tuple[Action, ...] | None = None


@dataclass(frozen=True)
class Team:
    """How the game is played by ``count`` players: each player's inputs, its rules
    (scenario.json ``players``), and the start (a boot of its own, e.g. for the game
    mode of that many players; None: the game's)."""

    count: int
    players: tuple[PlayerSpec, ...]
    rules: tuple[PlayerRules, ...]
    boot: tuple[BootStep | OptionStep, ...] | None = None
    pettingzoo: str | None = None  # PettingZoo's Atari env of this game and count, if any


@dataclass(frozen=True)
class Cartridge:
    """Media file given to MAME with ``-<slot>``; found in a Python package or the ROM path."""

    slot: str
    file: str
    md5: str | None
    package: str | None
    sha1: str | None = None
    # the folder inside ``package`` that holds the file (ale-py's "roms"; stable-retro keeps
    # each game's ROM in its integration folder, "data/stable/<Game>")
    package_dir: str = "roms"


@dataclass(frozen=True)
class Patch:
    """Bytes of a memory region (a cartridge's ROM) replaced when MAME starts: for a game
    that only runs on a more lenient emulator than MAME. ``original`` is checked first."""

    region: str
    offset: int
    original: bytes
    data: bytes
    why: str

@dataclass(frozen=True)
class OptionStep:
    """A place in a boot sequence where the chosen value of option ``name`` is played."""

    name: str


@dataclass(frozen=True)
class Option:
    """A game setting: each value is the boot steps that select it."""

    name: str
    values: dict[str, tuple[BootStep, ...]]
    default: str
    description: str = ""


@dataclass(frozen=True)
class StateSpec:
    """A named start as metadata.json gives it: a boot (option steps not yet filled
    in), a save state file made by that boot with the default options, or both."""

    name: str
    boot: tuple[BootStep | OptionStep, ...]
    file: Path | None
    mame_version: str | None
    description: str = ""


@dataclass(frozen=True)
class Start:
    """A start as an env plays it: the boot with the options filled in, and the
    shipped file when it was made by exactly that boot."""

    name: str
    boot: tuple[BootStep, ...]
    file: Path | None
    mame_version: str | None


def fill_boot(boot: Sequence[BootStep | OptionStep], options: Mapping[str, Option],
              chosen: Mapping[str, str]) -> tuple[BootStep, ...]:
    """``boot`` with each option step replaced by the chosen value's steps."""
    out: list[BootStep] = []
    for step in boot:
        if isinstance(step, OptionStep):
            out.extend(options[step.name].values[chosen[step.name]])
        else:
            out.append(step)
    return tuple(out)


def option_text(value: Any) -> str:
    """Option values are matched as text, so ``difficulty=3`` finds ``"3"``."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)



@dataclass(frozen=True)
class Integration:
    """Everything gym_mame knows about one game, loaded from its folder."""

    name: str
    folder: Path
    machine: str
    title: str
    verified: bool
    notes: str
    rom_set: str | None
    cartridge: Cartridge | None
    players: int
    screen: str
    ram: tuple[tuple[str, str, int, int], ...]  # (device, space, start, length)
    memory: tuple[str, str]  # default (device, space) of variables and boot writes
    inputs: dict[str, Input]
    nudges: dict[str, Nudge]
    buttons: tuple[str, ...]
    actions: tuple[Action, ...]
    full_actions: tuple[Action, ...] | None
    action_groups: tuple[tuple[Action, ...], ...]
    slots: dict[str, str]  # MAME slot options, e.g. {"joyport1": "pad"}
    states: dict[str, StateSpec]  # named starts ("start" is metadata.json's "start")
    default_state: str
    options: dict[str, Option]  # game settings chosen by boot steps (difficulty, ...)
    starts: tuple[Start, ...]  # where episodes start: one, or one at random each episode
    opponent: Opponent | None
    crop: tuple[int, int, int, int] | None  # x, y, width, height
    obs_size: tuple[int, int] | None  # height, width
    render_fps: float | None
    display_aspect: float | None  # width / height at which a person sees the picture
    # env options this game defaults to (metadata.json "defaults"), e.g. ALE's sticky actions
    defaults: dict[str, float | int | None]
    variables: dict[str, Variable]
    scenario: Scenario
    teams: dict[int, Team] = field(default_factory=dict)  # player count (2-4) -> how
    patches: tuple[Patch, ...] = ()  # ROM bytes replaced when MAME starts
    scenario_name: str = "scenario"  # the scenario file (without .json) the rules came from
    # what a user with the game should look at to confirm the integration (metadata.json
    # "checks"): (what, how) pairs, shown by `gym-mame validate`
    checks: tuple[tuple[str, str], ...] = ()
    # named discrete action sets (metadata.json "action_sets"), chosen with action_set=
    action_sets: dict[str, tuple[Action, ...]] = field(default_factory=dict)

    @property
    def env_id(self) -> str:
        return f"Mame/{self.name}-v0"

    @property
    def boot(self) -> tuple[BootStep, ...]:
        """The boot sequence of the (first) start."""
        return self.starts[0].boot if self.starts else ()

    def scenarios(self) -> list[str]:
        """The scenario files of the folder (``scenario`` first), for ``scenario=``."""
        return scenario_names(self.folder)


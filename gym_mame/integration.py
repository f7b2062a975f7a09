"""Integration folders: one per game, data only, in the style of gym-retro.

A folder holds ``metadata.json`` (which MAME machine and media, inputs,
actions, start state), ``data.json`` (named variables: memory addresses with
gym-retro type strings, or machine state entries such as netlist nets),
``scenario.json`` (reward and done, gym-retro semantics) and save states.
The format is documented in ``integrations/README.md``.

Folders are found in the bundled ``integrations/`` and in every folder listed
in ``$GYM_MAME_INTEGRATIONS`` (``os.pathsep``-separated). Those user folders
are searched first, so a user's folder overrides a bundled one of the same name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path

from gym_mame import intervals
from gym_mame.datatypes import DataType
from gym_mame.errors import IntegrationError
from gym_mame.expressions import Expression, compile_expression
from gym_mame.intervals import UNBOUNDED, Interval, Number
from gym_mame.jsonfile import Node, load_json
from gym_mame.names import unknown
from gym_mame.resources import integrations_dir
from gym_mame.scenario import PlayerRules, Scenario, parse_scenario
from gym_mame.starts import (
    DEFAULT_STATE,
    ENV_ARGUMENTS,
    BootParser,
    Option,
    OptionStep,
    Start,
    StateSpec,
    check_option_steps,
    fill_boot,
    parse_options,
    parse_states,
)

Bounds = tuple[Number, Number]  # low, high; ±inf where unbounded

# Values from an integration folder that reach MAME's command line must be names,
# never options (mameinfo checks them against the machine too): MAME's short names.
MACHINE_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
OPTION_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")  # a file in a folder, no path
# a relative folder of names like FILE_NAME ("data/stable/Airstriker-Genesis-v0"), no ".."
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}"
PACKAGE_DIR = re.compile(rf"^{_PART}(/{_PART}){{0,7}}$")
ADDRESS_LIMIT = 1 << 64  # the protocol carries 64-bit addresses and 32-bit lengths
LENGTH_LIMIT = 1 << 32
FRAMES_LIMIT = 1 << 32  # frames of one boot step (one protocol segment)
ANALOG_LIMIT = 1 << 31  # analog ranges are 32-bit signed
MAX_BOOT_STEPS = 1_000_000


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

    @property
    def env_id(self) -> str:
        return f"Mame/{self.name}-v0"

    @property
    def boot(self) -> tuple[BootStep, ...]:
        """The boot sequence of the (first) start."""
        return self.starts[0].boot if self.starts else ()

    def scenarios(self) -> list[str]:
        """The scenario files of the folder (``scenario`` first), for ``scenario=``."""
        return list_scenarios(self.folder)


# ALE's 18 joystick actions in ALE's order; ``"full_actions": "ale"`` in metadata.json.
ALE_ACTIONS: tuple[tuple[str, ...], ...] = (
    (), ("FIRE",), ("UP",), ("RIGHT",), ("LEFT",), ("DOWN",),
    ("UP", "RIGHT"), ("UP", "LEFT"), ("DOWN", "RIGHT"), ("DOWN", "LEFT"),
    ("UP", "FIRE"), ("RIGHT", "FIRE"), ("LEFT", "FIRE"), ("DOWN", "FIRE"),
    ("UP", "RIGHT", "FIRE"), ("UP", "LEFT", "FIRE"), ("DOWN", "RIGHT", "FIRE"),
    ("DOWN", "LEFT", "FIRE"),
)


# -- finding folders -----------------------------------------------------------
def search_paths() -> list[Path]:
    """Folders searched for integrations: ``$GYM_MAME_INTEGRATIONS`` first, then the bundled one."""
    extra = [Path(p) for p in os.environ.get("GYM_MAME_INTEGRATIONS", "").split(os.pathsep) if p]
    return [*extra, integrations_dir()]


def find_folders() -> dict[str, Path]:
    """Map game name to folder, for every folder that has a ``metadata.json``."""
    found: dict[str, Path] = {}
    for root in search_paths():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if (folder / "metadata.json").is_file() and folder.name not in found:
                found[folder.name] = folder
    return found


def load(name_or_folder: str | os.PathLike[str],
         scenario: str | os.PathLike[str] | None = None) -> Integration:
    """Load and validate an integration by game name or folder path, with the rules of
    ``scenario``: the name of a scenario file in its folder (default ``"scenario"``,
    i.e. ``scenario.json``; :func:`list_scenarios` lists them) or a path to one."""
    folder = Path(name_or_folder)
    if not (folder / "metadata.json").is_file():
        folders = find_folders()
        if str(name_or_folder) not in folders:
            raise unknown("game", str(name_or_folder), folders,
                          f"`gym-mame list` shows all {len(folders)}; a new game is a folder "
                          "with metadata.json, data.json and scenario.json in "
                          "$GYM_MAME_INTEGRATIONS")
        folder = folders[str(name_or_folder)]
    return _parse(folder, _scenario_file(folder, scenario))


# Files of a folder that are not scenarios.
NOT_SCENARIOS = ("metadata.json", "data.json")


def list_scenarios(game: str | os.PathLike[str]) -> list[str]:
    """The scenario names of a game (or folder) for ``scenario=``, ``scenario`` first:
    the JSON files of its folder besides metadata.json and data.json (as
    ``retro.data.list_scenarios``)."""
    folder = Path(game)
    if not (folder / "metadata.json").is_file():
        folder = load(game).folder
    names = sorted(p.stem for p in folder.glob("*.json") if p.name not in NOT_SCENARIOS)
    return sorted(names, key=lambda n: n != "scenario")


def list_states(game: str | os.PathLike[str]) -> list[str]:
    """The named start states of a game for ``state=``, the default first (as
    ``retro.data.list_states``)."""
    loaded = load(game)
    return sorted(loaded.states, key=lambda n: n != loaded.default_state)


def list_options(game: str | os.PathLike[str]) -> dict[str, Option]:
    """The game options (``difficulty=...``) of a game: each with its values and default."""
    return dict(load(game).options)


def _scenario_file(folder: Path, scenario: str | os.PathLike[str] | None) -> Path:
    if scenario is None:
        return folder / "scenario.json"
    text = os.fspath(scenario)
    if FILE_NAME.match(text) and not text.endswith(".json"):
        path = folder / f"{text}.json"
        if path.is_file() and path.name not in NOT_SCENARIOS:
            return path
        raise unknown("scenario", text, list_scenarios(folder),
                      f"{folder.name}'s scenarios are the JSON files of its folder besides "
                      "metadata.json and data.json; or give a path to a scenario file")
    path = Path(text)
    if not path.is_file():
        raise IntegrationError(f"scenario file {path} does not exist; give a scenario's "
                               f"name ({', '.join(list_scenarios(folder))}) or a path to one")
    return path


# -- parsing -------------------------------------------------------------------
def _parse(folder: Path, scenario_path: Path) -> Integration:
    meta = Node(load_json(folder / "metadata.json"), folder / "metadata.json")
    meta.only_keys(
        "machine", "title", "verified", "notes", "rom_set", "cartridge", "players", "screen",
        "memory", "ram", "inputs", "buttons", "actions", "action_groups", "start",
        "opponent", "crop", "obs_size", "render_fps", "full_actions", "slots",
        "display_aspect", "defaults", "multiplayer", "states", "default_state", "options",
        "checks", "discrete_order", "patches",
    )
    machine_node = meta.child("machine")
    machine = machine_node.text()
    if not MACHINE_NAME.match(machine):
        raise machine_node.error(f"{machine!r} is not a MAME machine name (1-32 lower-case "
                                 "letters, digits and _, e.g. \"pong\" or \"a2600\")")
    memory = meta.child("memory", {"device": ":maincpu", "space": "program"})
    memory.only_keys("device", "space")
    default_device = memory.child("device", ":maincpu").text()
    default_space = memory.child("space", "program").text()

    data = Node(load_json(folder / "data.json"), folder / "data.json")
    data.only_keys("info")
    variables = {name: _variable(name, spec, default_device, default_space)
                 for name, spec in data.child("info").items()}
    scenario_node = Node(load_json(scenario_path), scenario_path)
    ranges = {name: Interval(*var.bounds) for name, var in variables.items()}
    scenario = parse_scenario(scenario_node, set(variables), ranges)

    inputs, nudges = _inputs(meta.child("inputs"))
    buttons_used: list[str] = []

    def action(node: Node) -> Action:
        if isinstance(node.value, dict):
            node.only_keys("name", "buttons")
            name_node, names_node = node.child("name", None), node.child("buttons")
        else:
            name_node, names_node = Node(None, node.file), node
        names = tuple(n.text() for n in names_node.elements())
        for n, button in zip(names_node.elements(), names, strict=True):
            if button not in inputs and button not in nudges:
                raise n.error(f"unknown button {button!r}; define it under \"inputs\"")
            if inputs.get(button) is not None and inputs[button].analog:
                raise n.error(f"{button!r} is analog; press it through a nudge button")
            if button not in buttons_used:
                buttons_used.append(button)
        label = name_node.value if name_node.value is not None else ("".join(names) or "NOOP")
        return Action(str(label), names)

    groups = tuple(tuple(action(c) for c in g.elements())
                   for g in meta.child("action_groups", []).elements())
    actions_node = meta.child("actions", None)
    if actions_node.value is not None:
        actions = tuple(action(c) for c in actions_node.elements())
        # usually NOOP first; ALE's minimal sets of a few games have none (Video Checkers)
        if not actions:
            raise actions_node.error("lists no actions")
    elif groups:
        order = meta.child("discrete_order", "product")
        if order.value not in ("product", "retro"):
            raise order.error("must be \"product\" (the last group's choice varies fastest) "
                              "or \"retro\" (gym-retro's Discrete: the first group's does)")
        # gym-retro's index is i1 + n1 * (i2 + n2 * ...): the product of the reversed groups
        combos = (product(*groups) if order.value == "product"
                  else (tuple(reversed(c)) for c in product(*reversed(groups))))
        actions = tuple(Action("_".join(a.name for a in combo if a.buttons) or "NOOP",
                               tuple(b for a in combo for b in a.buttons))
                        for combo in combos)
        actions = tuple(sorted(actions, key=lambda a: bool(a.buttons)))  # NOOP first
    else:
        raise meta.error("define \"actions\" (discrete button combinations) or "
                         "\"action_groups\"")
    minimal_buttons = tuple(buttons_used)  # multi_binary's buttons: those of "actions"
    full_node = meta.child("full_actions", None)
    full_actions = None
    if full_node.value == "ale":
        full_node = Node([list(combo) for combo in ALE_ACTIONS], full_node.file, full_node.where)
    if full_node.value is not None:
        full_actions = tuple(action(c) for c in full_node.elements())
        if not full_actions or full_actions[0].buttons:
            raise full_node.error("the first action must be NOOP (an empty button list)")
    buttons_node = meta.child("buttons", None)
    buttons = minimal_buttons
    if buttons_node.value is not None:
        buttons = tuple(b.text() for b in buttons_node.elements())
        missing = [b for b in minimal_buttons if b not in buttons]
        if missing:
            raise buttons_node.error(f"lacks buttons used by actions: {', '.join(missing)}")

    def boot_steps(node: Node) -> tuple[BootStep | OptionStep, ...]:  # a BootParser
        return _boot_steps(node, inputs, nudges, variables)

    options = parse_options(meta.child("options", {}), boot_steps, ENV_ARGUMENTS)
    states, default_state = parse_states(meta.child("start", None), meta.child("states", {}),
                                         meta.child("default_state", None), folder, boot_steps)

    ram = tuple(_ram_region(r, default_device, default_space)
                for r in meta.child("ram", []).elements())
    opponent = _opponent(meta.child("opponent", None), inputs, variables)
    crop = _int_tuple(meta.child("crop", None), 4, "[x, y, width, height]")
    obs_size = _int_tuple(meta.child("obs_size", None), 2, "[height, width]")
    fps = meta.child("render_fps", None)
    display_aspect = _aspect(meta.child("display_aspect", None))
    cartridge = _cartridge(meta.child("cartridge", None))
    slots = {name: value.text() for name, value in meta.child("slots", {}).items()}
    for name, value in slots.items():
        if not (OPTION_NAME.match(name) and OPTION_NAME.match(value)):
            raise meta.error(f"slot {name!r}: {value!r}: a slot and its option are MAME "
                             "names (lower-case letters, digits and _), e.g. "
                             "\"joyport1\": \"pad\"", "slots")
    rom_set = meta.child("rom_set", None)
    players = meta.child("players", 1).integer()
    teams = _teams(meta.child("multiplayer", {}), scenario, players, inputs, nudges, boot_steps,
                   action, strict=scenario_path == folder / "scenario.json")
    check_option_steps({**{f"state {n}": s.boot for n, s in states.items()},
                        **{f"multiplayer {c}": t.boot for c, t in teams.items() if t.boot}},
                       options, meta)
    defaults = {name: option.default for name, option in options.items()}
    for spec in states.values():
        boot = fill_boot(spec.boot, options, defaults) if options else spec.boot
        if len(boot) > MAX_BOOT_STEPS:
            raise meta.error(f"{spec.name}: has {len(boot)} boot steps (with repeats and "
                             f"\"from\"); at most {MAX_BOOT_STEPS}", "start")
    default = states[default_state]
    first = Start(default.name, fill_boot(default.boot, options, defaults), default.file,
                  default.mame_version)
    return Integration(
        name=folder.name,
        folder=folder,
        machine=machine,
        title=meta.child("title", machine).text(),
        verified=meta.child("verified", True).boolean(),
        notes=meta.child("notes", "").text(),
        rom_set=rom_set.text() if rom_set.value is not None else None,
        cartridge=cartridge,
        players=players,
        screen=meta.child("screen", "").text(),
        ram=ram,
        memory=(default_device, default_space),
        inputs=inputs,
        nudges=nudges,
        buttons=buttons,
        actions=actions,
        full_actions=full_actions,
        action_groups=groups,
        slots=slots,
        states=states,
        default_state=default_state,
        options=options,
        starts=(first,),
        opponent=opponent,
        crop=crop,  # type: ignore[arg-type]
        obs_size=obs_size,  # type: ignore[arg-type]
        render_fps=fps.number() if fps.value is not None else None,
        display_aspect=display_aspect,
        defaults=_defaults(meta.child("defaults", {})),
        variables=variables,
        scenario=scenario,
        teams=teams,
        scenario_name=scenario_path.stem,
        checks=_checks(meta.child("checks", [])),
        patches=tuple(_patch(p) for p in meta.child("patches", []).elements()),
    )


def _checks(node: Node) -> tuple[tuple[str, str], ...]:
    """metadata.json ``checks``: ``[{"what": fact, "how": what to look at}, ...]``."""
    out = []
    for entry in node.elements():
        entry.only_keys("what", "how")
        what, how = entry.child("what").text(), entry.child("how").text()
        if not what.strip() or not how.strip():
            raise entry.error("\"what\" and \"how\" must say something")
        out.append((what, how))
    return tuple(out)


def _hex_bytes(node: Node) -> bytes:
    try:
        data = bytes.fromhex(node.text())
    except ValueError:
        data = b""
    if not data or len(data) > 4096:
        raise node.error(f"expected 1 to 4096 bytes in hex, e.g. \"4E71\", not {node.value!r}")
    return data


def _patch(node: Node) -> Patch:
    """metadata.json ``patches`` entry: ``{"region", "offset", "original", "bytes", "why"}``."""
    node.only_keys("region", "offset", "original", "bytes", "why")
    original, data = _hex_bytes(node.child("original")), _hex_bytes(node.child("bytes"))
    if len(original) != len(data):
        raise node.error("\"original\" and \"bytes\" must have the same length")
    offset = node.child("offset").integer()
    if not 0 <= offset < ADDRESS_LIMIT:
        raise node.child("offset").error("must be a non-negative offset into the region")
    return Patch(node.child("region").text(), offset, original, data, node.child("why").text())


def _variable(name: str, spec: Node, device: str, space: str) -> Variable:
    if isinstance(spec.value, dict) and ("state" in spec.value or "item" in spec.value):
        source = "state" if "state" in spec.value else "item"
        spec.only_keys(source, "device", "weights", "range")
        entries_node = spec.child(source)
        if isinstance(entries_node.value, str):
            entries: tuple[str, ...] = (entries_node.value,)
        else:
            entries = tuple(e.text() for e in entries_node.elements())
        if not entries:
            raise entries_node.error("needs at least one state entry")
        weights_node = spec.child("weights", None)
        if weights_node.value is None:
            weights = tuple(1 << i for i in range(len(entries))) if len(entries) > 1 else (1,)
        else:
            weights = tuple(w.integer() for w in weights_node.elements())
            if len(weights) != len(entries):
                raise weights_node.error(f"has {len(weights)} weights for {len(entries)} entries")
        return StateVariable(name, spec.child("device", device).text(), entries, weights,
                             source == "item", _declared_range(spec))
    spec.only_keys("address", "type", "device", "space", "mask", "shift", "range")
    dtype = spec.child("type").convert(DataType.parse)
    address_node = spec.child("address")
    if isinstance(address_node.value, list):
        addresses = tuple(a.integer() for a in address_node.elements())
        if len(addresses) != dtype.size:
            raise address_node.error(f"lists {len(addresses)} addresses but type "
                                     f"{dtype.text!r} reads {dtype.size} bytes")
    else:
        first = address_node.integer()
        addresses = tuple(range(first, first + dtype.size))
    if any(not 0 <= a < ADDRESS_LIMIT for a in addresses):
        raise spec.error("must be from 0 to 2**64 - 1", "address")
    mask = spec.child("mask", None)
    shift = spec.child("shift", 0).integer()
    if not 0 <= shift < 64:
        raise spec.error("must be from 0 to 63", "shift")
    variable = MemoryVariable(name, spec.child("device", device).text(),
                              spec.child("space", space).text(), addresses, dtype,
                              mask.integer() if mask.value is not None else None, shift,
                              _declared_range(spec))
    spec.child("range", None).convert(lambda _: variable.bounds)  # a range apart is an error
    return variable


def _declared_range(spec: Node) -> tuple[int, int] | None:
    """data.json's ``"range": [low, high]``: the values a variable takes, when its type,
    mask or weights allow more (e.g. 4-bit counters kept in 32-bit save items)."""
    node = spec.child("range", None)
    if node.value is None:
        return None
    values = tuple(v.integer() for v in node.elements())
    if len(values) != 2 or values[0] > values[1]:
        raise node.error("expected [low, high], two integers with low <= high")
    return values[0], values[1]


def _inputs(node: Node) -> tuple[dict[str, Input], dict[str, Nudge]]:
    inputs: dict[str, Input] = {}
    nudges: dict[str, Nudge] = {}
    for name, spec in node.items():
        if "nudge" in spec.expect(dict, "an object"):
            spec.only_keys("nudge", "speed")
            speed = spec.child("speed")
            if not abs(speed.number()) < ANALOG_LIMIT:
                raise speed.error("must be a finite number of units per frame")
            nudges[name] = Nudge(name, spec.child("nudge").text(), speed.number())
            continue
        spec.only_keys("port", "field", "analog", "dial")
        if "analog" in spec.value and "dial" in spec.value:
            raise spec.error("give \"analog\" (a position) or \"dial\" (a relative "
                             "control), not both")
        kind = "dial" if "dial" in spec.value else "analog"
        analog = spec.child(kind, None)
        if analog.value is None:
            inputs[name] = Input(name, spec.child("port").text(), spec.child("field").text())
            continue
        inputs[name] = _analog_input(name, spec, analog, wrap=kind == "dial")
    for name, nudge in nudges.items():
        if nudge.target not in inputs or not inputs[nudge.target].analog:
            raise node.error(f"nudges {nudge.target!r}, which is not an analog input",
                             f"{name}.nudge")
        target = inputs[nudge.target]
        if target.wrap and abs(nudge.speed) > target.dial_limit:
            raise node.error(f"turns dial {nudge.target!r} by {nudge.speed:g} a frame, but a "
                             f"dial of {target.high - target.low + 1} positions can turn at "
                             f"most {target.dial_limit} a frame (the game sees the change "
                             "modulo the range, so a larger one reads as a turn the other "
                             "way)", f"{name}.speed")
    return inputs, nudges


def _analog_input(name: str, spec: Node, node: Node, wrap: bool) -> Input:
    """An ``analog`` (absolute position) or ``dial`` (relative, wrapping) input."""
    node.only_keys("min", "max", "initial", "max_speed")
    low, high = node.child("min").integer(), node.child("max").integer()
    if not -ANALOG_LIMIT <= low <= high < ANALOG_LIMIT:
        raise node.error("min and max must be 32-bit integers with min <= max")
    if wrap and high - low < 2:
        raise node.error(f"a dial needs at least 3 positions to tell left from right; "
                         f"[{low}, {high}] has {high - low + 1}")
    initial = node.child("initial", low if wrap else (low + high) // 2).integer()
    if not low <= initial <= high:
        raise node.error(f"initial {initial} is outside [{low}, {high}]", "initial")
    made = Input(name, spec.child("port").text(), spec.child("field").text(),
                 True, low, high, initial, wrap)
    speed_node = node.child("max_speed", None)
    if speed_node.value is None:
        # a dial is steerable by default, as fast as it can be read the right way round
        return replace(made, max_speed=float(made.dial_limit)) if wrap else made
    speed = speed_node.number()
    limit = made.dial_limit if wrap else ANALOG_LIMIT - 1
    if not 0 < speed <= limit:
        raise speed_node.error(f"must be a number of units per frame in (0, {limit}]"
                               + (" (half the dial's range, less one: a larger turn "
                                  "reads as one the other way)" if wrap else ""))
    return replace(made, max_speed=float(speed))


def _teams(node: Node, scenario: Scenario, most: int, inputs: dict[str, Input],
           nudges: dict[str, Nudge], boot_steps: BootParser,
           action: Callable[[Node], Action], strict: bool = True) -> dict[int, Team]:
    """metadata.json ``multiplayer``: per player count, each player's inputs (and its
    start), matched with the scenario's ``players`` rules for the same count. Another
    scenario than scenario.json may leave some counts out (``strict`` False): those
    are then not offered."""
    teams = {}
    for count_text, spec in node.items():
        if count_text not in ("2", "3", "4") or int(count_text) > most:
            raise node.error(f"player counts are 2 to \"players\" ({most}), not "
                             f"{count_text!r}", count_text)
        count = int(count_text)
        spec.only_keys("players", "boot", "pettingzoo")
        entries = spec.child("players").elements()
        if len(entries) != count:
            raise spec.error(f"lists {len(entries)} players, not {count}", "players")
        players = []
        for entry in entries:
            entry.only_keys("buttons", "actions")
            buttons = {k: v.text() for k, v in entry.child("buttons", {}).items()}
            for logical, target in buttons.items():
                if target not in inputs and target not in nudges:
                    raise entry.error(f"{target!r} is not an input defined under "
                                      "\"inputs\"", f"buttons.{logical}")
            own = entry.child("actions", None)
            actions = None
            if own.value is not None:
                # A player's own set may start with a button combination: Multi-Agent ALE's
                # minimal sets of some games have no NOOP, and PettingZoo's action 0 is then
                # that combination (an idle player presses nothing all the same).
                actions = tuple(action(c) for c in own.elements())
                if not actions:
                    raise own.error("lists no actions")
            players.append(PlayerSpec(buttons, actions))
        boot_node = spec.child("boot", None)
        boot = None if boot_node.value is None else tuple(
            step for s in boot_node.elements() for step in boot_steps(s))
        rules = scenario.players.get(count)
        if rules is None and not strict:
            continue
        if rules is None:
            raise spec.error(f"scenario.json has no \"players\": {{\"{count}\": [...]}} "
                             "rules for this many players")
        reference = spec.child("pettingzoo", None)
        teams[count] = Team(count, tuple(players), rules, boot,
                            reference.text() if reference.value is not None else None)
    for count in scenario.players:
        if count not in teams:
            raise node.error(f"scenario.json has rules for {count} players but metadata.json "
                             f"no \"multiplayer\": {{\"{count}\": ...}}")
    return teams


def _boot_steps(node: Node, inputs: dict[str, Input], nudges: dict[str, Nudge],
                variables: dict[str, Variable]) -> tuple[BootStep | OptionStep, ...]:
    """A boot step, ``{"repeat": n, "steps": [...]}`` (those steps ``n`` times over,
    e.g. pressing Select 129 times to reach a game mode), or ``{"option": name}``
    (where the chosen value of a game option is played)."""
    members = node.expect(dict, "an object")
    if "option" in members:
        node.only_keys("option")
        return (OptionStep(node.child("option").text()),)
    if "repeat" not in members:
        return (_boot_step(node, inputs, nudges, variables),)
    node.only_keys("repeat", "steps")
    repeat = node.child("repeat").integer()
    if not 1 <= repeat <= 100_000:
        raise node.error("must be from 1 to 100000", "repeat")
    steps = tuple(step for s in node.child("steps").elements()
                  for step in _boot_steps(s, inputs, nudges, variables))
    if not steps:
        raise node.error("needs at least one step", "steps")
    return steps * repeat


def _boot_step(node: Node, inputs: dict[str, Input], nudges: dict[str, Nudge],
               variables: dict[str, Variable]) -> BootStep:
    node.only_keys("frames", "press", "set", "write", "until")
    frames = node.child("frames").integer()
    if not 1 <= frames < FRAMES_LIMIT:
        raise node.error(f"must be from 1 to {FRAMES_LIMIT - 1}", "frames")
    press = tuple(p.text() for p in node.child("press", []).elements())
    for p in press:
        if p not in nudges and (p not in inputs or inputs[p].analog):
            raise node.error(f"{p!r} is not a digital input or a nudge defined under "
                             "\"inputs\"", "press")
    values = tuple((k, v.number()) for k, v in node.child("set", {}).items())
    for k, value in values:
        if k not in inputs or not inputs[k].analog:
            raise node.error(f"{k!r} is not an analog input defined under \"inputs\"", "set")
        if not inputs[k].low <= value <= inputs[k].high:
            raise node.error(f"{k} = {value:g} is outside its range [{inputs[k].low}, "
                             f"{inputs[k].high}]", "set")
    writes = []
    for address, value in node.child("write", {}).items():
        try:
            addr = int(address, 0)
        except ValueError:
            raise node.error(f"{address!r} is not an address (e.g. \"0x80\")", "write") from None
        byte = value.integer()
        if not 0 <= addr < ADDRESS_LIMIT or not 0 <= byte <= 255:
            raise value.error("must be a byte (0-255) at an address from 0 to 2**64 - 1")
        writes.append((addr, byte))
    until = _until(node.child("until", None), variables)
    return BootStep(frames, press, values, tuple(writes), until)


def _until(node: Node, variables: dict[str, Variable]) -> Expression | None:
    """A boot step's ``until``: an expression over data.json variables (a screen waited
    for by what the game shows, not a guessed number of frames). ``prev()`` is the
    value one frame earlier."""
    if node.value is None:
        return None
    text = node.text()
    names = set(variables)
    try:
        expression = compile_expression(text, names)
    except ValueError as exc:
        raise node.error(f"{exc} (an \"until\" reads data.json variables: "
                         f"{', '.join(sorted(names)) or 'none'})") from None
    ranges = {name: Interval(*var.bounds) for name, var in variables.items()}
    return node.convert(lambda _: expression.checked(ranges, ranges, f"{node.file}: "
                                                     f"{node.where}"))



def _ram_region(node: Node, device: str, space: str) -> tuple[str, str, int, int]:
    node.only_keys("device", "space", "start", "length")
    length = node.child("length").integer()
    if not 1 <= length < LENGTH_LIMIT:
        raise node.error(f"must be from 1 to {LENGTH_LIMIT - 1}", "length")
    start = node.child("start").integer()
    if not 0 <= start <= ADDRESS_LIMIT - length:
        raise node.error("must be an address from 0 to 2**64 - length", "start")
    return (node.child("device", device).text(), node.child("space", space).text(),
            start, length)


def _opponent(node: Node, inputs: dict[str, Input],
              variables: dict[str, Variable]) -> Opponent | None:
    if node.value is None:
        return None
    node.only_keys("input", "follow", "scale", "offset", "speed", "description")
    name = node.child("input").text()
    if name not in inputs or not inputs[name].analog:
        raise node.error(f"{name!r} is not an analog input", "input")
    follow = node.child("follow").text()
    if follow not in variables:
        raise node.error(f"{follow!r} is not a data.json variable", "follow")
    return Opponent(name, follow, node.child("scale", 1.0).number(),
                    node.child("offset", 0.0).number(), node.child("speed").number(),
                    node.child("description", "").text())


def _cartridge(node: Node) -> Cartridge | None:
    if node.value is None:
        return None
    node.only_keys("slot", "file", "md5", "sha1", "package", "package_dir")
    md5 = node.child("md5", None)
    sha1 = node.child("sha1", None)
    package = node.child("package", None)
    package_dir = node.child("package_dir", "roms")
    if not PACKAGE_DIR.match(package_dir.text()):
        raise package_dir.error(f"{package_dir.text()!r} must be a relative folder of the "
                                "package, e.g. \"roms\" or \"data/stable/Airstriker-Genesis-v0\"")
    for digest, size in ((md5, 32), (sha1, 40)):
        if digest.value is not None and not re.fullmatch(f"[0-9a-fA-F]{{{size}}}", digest.text()):
            raise digest.error(f"{digest.text()!r} is not a hex digest of {size} digits")
    slot, file = node.child("slot", "cart"), node.child("file")
    if not OPTION_NAME.match(slot.text()):
        raise slot.error(f"{slot.text()!r} is not a MAME media name (e.g. \"cart\")")
    if not FILE_NAME.match(file.text()):
        raise file.error(f"{file.text()!r} must be a plain file name (no folder), "
                         "e.g. \"breakout.bin\"")
    return Cartridge(slot.text(), file.text(),
                     md5.text().lower() if md5.value is not None else None,
                     package.text() if package.value is not None else None,
                     sha1.text().lower() if sha1.value is not None else None,
                     package_dir.text())


def _aspect(node: Node) -> float | None:
    """``"4:3"`` (width:height) as a ratio."""
    if node.value is None:
        return None
    parts = node.text().split(":")
    try:
        width, height = (float(p) for p in parts)
    except ValueError:
        width = height = 0.0
    if len(parts) != 2 or not (width > 0 and height > 0):
        raise node.error(f"expected \"width:height\" with positive numbers, e.g. \"4:3\", "
                         f"not {node.value!r}")
    return width / height


# Env options an integration may set its own defaults for, and what each must be.
DEFAULTABLE = {
    "frameskip": "a positive integer",
    "repeat_action_probability": "a number from 0 to 1",
    "max_num_frames_per_episode": "a positive integer or null (no limit)",
}


def _defaults(node: Node) -> dict[str, float | int | None]:
    """metadata.json ``defaults``: env options this game starts from unless the user
    gives them (the Atari games take ALE v5's sticky actions this way)."""
    node.only_keys(*DEFAULTABLE)
    out: dict[str, float | int | None] = {}
    for key, value in node.items():
        v = value.value
        ok = {"frameskip": isinstance(v, int) and not isinstance(v, bool) and 1 <= v < 2**32,
              "repeat_action_probability": isinstance(v, (int, float))
              and not isinstance(v, bool) and 0 <= v <= 1,
              "max_num_frames_per_episode": v is None or (isinstance(v, int)
                                                          and not isinstance(v, bool) and v > 0),
              }[key]
        if not ok:
            raise value.error(f"must be {DEFAULTABLE[key]}")
        out[key] = v
    return out


def _int_tuple(node: Node, size: int, shape: str) -> tuple[int, ...] | None:
    if node.value is None:
        return None
    values = tuple(v.integer() for v in node.elements())
    if len(values) != size or any(v < 0 for v in values):
        raise node.error(f"expected {shape} of non-negative integers")
    return values


# -- integrations made in code (scripting a bare machine with the Emulator) ------
def bare(machine: str) -> Integration:
    """An integration of nothing but ``machine``: no inputs, variables or rules yet,
    starting at power-on (for the studio, the tools and scripting)."""
    if not MACHINE_NAME.match(machine):
        raise IntegrationError(f"{machine!r} is not a MAME machine name (1-32 lower-case "
                               "letters, digits and _, e.g. pong or a2600)")
    return Integration(
        name=machine, folder=Path("."), machine=machine, title=machine, verified=False,
        notes="", rom_set=None, cartridge=None, players=1, screen="", ram=(),
        memory=(":maincpu", "program"), inputs={}, nudges={}, buttons=(),
        actions=(Action("NOOP", ()),), full_actions=None, action_groups=(), slots={},
        states={}, default_state=DEFAULT_STATE, options={},
        starts=(Start(DEFAULT_STATE, (), None, None),), opponent=None, crop=None,
        obs_size=None, render_fps=None, display_aspect=None, defaults={}, variables={},
        scenario=Scenario())


def extended(game: Integration, inputs: Mapping[str, object],
             variables: Mapping[str, object]) -> Integration:
    """``game`` with more (or replaced) inputs and variables, given in metadata.json's
    and data.json's forms; a digital input may be written ``(port, field)``."""
    where = Path("<Emulator arguments>")
    specs = {name: ({"port": value[0], "field": value[1]} if isinstance(value, (tuple, list))
                    else value) for name, value in inputs.items()}
    new_inputs, new_nudges = _inputs(Node(specs, where, "inputs"))
    all_inputs = {**game.inputs, **new_inputs}
    for nudge in new_nudges.values():
        if nudge.target not in all_inputs or not all_inputs[nudge.target].analog:
            raise IntegrationError(f"{where}: inputs.{nudge.name}: nudges {nudge.target!r}, "
                                   "which is not an analog input")
    device, space = game.memory
    new_variables = {name: _variable(name, Node(spec, where, f"variables.{name}"), device, space)
                     for name, spec in variables.items()}
    return replace(game, inputs=all_inputs, nudges={**game.nudges, **new_nudges},
                   variables={**game.variables, **new_variables})

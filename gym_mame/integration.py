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
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from gym_mame.datatypes import DataType
from gym_mame.jsonfile import Node, load_json
from gym_mame.names import unknown
from gym_mame.resources import integrations_dir
from gym_mame.scenario import Scenario, parse_scenario


@dataclass(frozen=True)
class MemoryVariable:
    """``type`` decoded from the bytes at ``addresses`` of ``device``'s ``space``, in
    that order (consecutive addresses unless data.json lists them), then ANDed with
    ``mask`` and shifted right by ``shift``."""

    name: str
    device: str
    space: str
    addresses: tuple[int, ...]
    type: DataType
    mask: int | None = None
    shift: int = 0

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
    def bounds(self) -> tuple[int, int]:
        low, high = self.type.bounds
        if self.mask is not None and low >= 0:
            high = min(high, self.mask)
        return low >> self.shift, high >> self.shift


@dataclass(frozen=True)
class StateVariable:
    """Sum of ``weight * round(value)`` over state entries (e.g. a TTL counter's bit nets)."""

    name: str
    device: str
    entries: tuple[str, ...]
    weights: tuple[int, ...]
    items: bool = False  # entries are save-state items, not state entries

    def decode(self, values: tuple[float, ...] | list[float]) -> int:
        return sum(w * round(v) for w, v in zip(self.weights, values, strict=True))

    @property
    def bounds(self) -> tuple[int, int]:
        if len(self.entries) == 1 and self.weights == (1,):
            return -(1 << 31), (1 << 31) - 1
        return (sum(min(w, 0) for w in self.weights), sum(max(w, 0) for w in self.weights))


Variable = MemoryVariable | StateVariable


@dataclass(frozen=True)
class Input:
    """A MAME input field; ``analog`` inputs hold a value in ``[low, high]``."""

    name: str
    port: str
    field: str
    analog: bool = False
    low: int = 0
    high: int = 1
    initial: int = 0


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
    """Write ``write`` bytes (address, value) to the integration's memory, then run
    ``frames`` frames holding ``press`` buttons and ``set`` analog values."""

    frames: int
    press: tuple[str, ...] = ()
    set: tuple[tuple[str, int], ...] = ()
    write: tuple[tuple[int, int], ...] = ()


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
class Cartridge:
    """Media file given to MAME with ``-<slot>``; found in a Python package or the ROM path."""

    slot: str
    file: str
    md5: str | None
    package: str | None


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
    boot: tuple[BootStep, ...]
    start_state: Path | None
    start_state_mame: str | None
    opponent: Opponent | None
    crop: tuple[int, int, int, int] | None  # x, y, width, height
    obs_size: tuple[int, int] | None  # height, width
    render_fps: float | None
    display_aspect: float | None  # width / height at which a person sees the picture
    variables: dict[str, Variable]
    scenario: Scenario

    @property
    def env_id(self) -> str:
        return f"Mame/{self.name}-v0"


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


def load(name_or_folder: str | os.PathLike[str]) -> Integration:
    """Load and validate an integration by game name or folder path."""
    folder = Path(name_or_folder)
    if not (folder / "metadata.json").is_file():
        folders = find_folders()
        if str(name_or_folder) not in folders:
            raise unknown("game", str(name_or_folder), folders,
                          f"`gym-mame list` shows all {len(folders)}; a new game is a folder "
                          "with metadata.json, data.json and scenario.json in "
                          "$GYM_MAME_INTEGRATIONS")
        folder = folders[str(name_or_folder)]
    return _parse(folder)


# -- parsing -------------------------------------------------------------------
def _parse(folder: Path) -> Integration:
    meta = Node(load_json(folder / "metadata.json"), folder / "metadata.json")
    meta.only_keys(
        "machine", "title", "verified", "notes", "rom_set", "cartridge", "players", "screen",
        "memory", "ram", "inputs", "buttons", "actions", "action_groups", "start",
        "opponent", "crop", "obs_size", "render_fps", "full_actions", "slots",
        "display_aspect",
    )
    machine = meta.child("machine").text()
    memory = meta.child("memory", {"device": ":maincpu", "space": "program"})
    memory.only_keys("device", "space")
    default_device = memory.child("device", ":maincpu").text()
    default_space = memory.child("space", "program").text()

    data = Node(load_json(folder / "data.json"), folder / "data.json")
    data.only_keys("info")
    variables = {name: _variable(name, spec, default_device, default_space)
                 for name, spec in data.child("info").items()}
    scenario_node = Node(load_json(folder / "scenario.json"), folder / "scenario.json")
    scenario = parse_scenario(scenario_node, set(variables))

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
        if not actions or actions[0].buttons:
            raise actions_node.error("the first action must be NOOP (an empty button list)")
    elif groups:
        actions = tuple(Action("_".join(a.name for a in combo if a.buttons) or "NOOP",
                               tuple(b for a in combo for b in a.buttons))
                        for combo in product(*groups))
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

    start = meta.child("start", {})
    start.only_keys("state", "mame_version", "boot")
    boot = tuple(step for s in start.child("boot", []).elements()
                 for step in _boot_steps(s, inputs))
    state_node = start.child("state", None)
    start_state = None
    if state_node.value is not None:
        start_state = folder / state_node.text()
    if start_state is None and not boot:
        raise start.error("needs a \"state\" file or a \"boot\" sequence to start from")
    mame_version = start.child("mame_version", None).value

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
        if not (name.isidentifier() and value.replace("_", "").isalnum()):
            raise meta.error(f"slot {name!r}: {value!r} is not a MAME slot option name", "slots")
    rom_set = meta.child("rom_set", None)
    return Integration(
        name=folder.name,
        folder=folder,
        machine=machine,
        title=meta.child("title", machine).text(),
        verified=meta.child("verified", True).boolean(),
        notes=meta.child("notes", "").text(),
        rom_set=rom_set.text() if rom_set.value is not None else None,
        cartridge=cartridge,
        players=meta.child("players", 1).integer(),
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
        boot=boot,
        start_state=start_state,
        start_state_mame=str(mame_version) if mame_version is not None else None,
        opponent=opponent,
        crop=crop,  # type: ignore[arg-type]
        obs_size=obs_size,  # type: ignore[arg-type]
        render_fps=fps.number() if fps.value is not None else None,
        display_aspect=display_aspect,
        variables=variables,
        scenario=scenario,
    )


def _variable(name: str, spec: Node, device: str, space: str) -> Variable:
    if isinstance(spec.value, dict) and ("state" in spec.value or "item" in spec.value):
        source = "state" if "state" in spec.value else "item"
        spec.only_keys(source, "device", "weights")
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
                             source == "item")
    spec.only_keys("address", "type", "device", "space", "mask", "shift")
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
    if any(a < 0 for a in addresses):
        raise spec.error("must not be negative", "address")
    mask = spec.child("mask", None)
    shift = spec.child("shift", 0).integer()
    if not 0 <= shift < 64:
        raise spec.error("must be from 0 to 63", "shift")
    return MemoryVariable(name, spec.child("device", device).text(),
                          spec.child("space", space).text(), addresses, dtype,
                          mask.integer() if mask.value is not None else None, shift)


def _inputs(node: Node) -> tuple[dict[str, Input], dict[str, Nudge]]:
    inputs: dict[str, Input] = {}
    nudges: dict[str, Nudge] = {}
    for name, spec in node.items():
        if "nudge" in spec.expect(dict, "an object"):
            spec.only_keys("nudge", "speed")
            nudges[name] = Nudge(name, spec.child("nudge").text(), spec.child("speed").number())
            continue
        spec.only_keys("port", "field", "analog")
        analog = spec.child("analog", None)
        if analog.value is None:
            inputs[name] = Input(name, spec.child("port").text(), spec.child("field").text())
            continue
        analog.only_keys("min", "max", "initial")
        low, high = analog.child("min").integer(), analog.child("max").integer()
        initial = analog.child("initial", (low + high) // 2).integer()
        if not low <= initial <= high:
            raise analog.error(f"initial {initial} is outside [{low}, {high}]", "initial")
        inputs[name] = Input(name, spec.child("port").text(), spec.child("field").text(),
                             True, low, high, initial)
    for name, nudge in nudges.items():
        if nudge.target not in inputs or not inputs[nudge.target].analog:
            raise node.error(f"nudges {nudge.target!r}, which is not an analog input",
                             f"{name}.nudge")
    return inputs, nudges


def _boot_steps(node: Node, inputs: dict[str, Input]) -> tuple[BootStep, ...]:
    """A boot step, or ``{"repeat": n, "steps": [...]}``: those steps ``n`` times over
    (e.g. pressing Select 129 times to reach a game mode)."""
    if "repeat" not in node.expect(dict, "an object"):
        return (_boot_step(node, inputs),)
    node.only_keys("repeat", "steps")
    repeat = node.child("repeat").integer()
    if not 1 <= repeat <= 100_000:
        raise node.error("must be from 1 to 100000", "repeat")
    steps = tuple(step for s in node.child("steps").elements() for step in _boot_steps(s, inputs))
    if not steps:
        raise node.error("needs at least one step", "steps")
    return steps * repeat


def _boot_step(node: Node, inputs: dict[str, Input]) -> BootStep:
    node.only_keys("frames", "press", "set", "write")
    frames = node.child("frames").integer()
    if frames < 1:
        raise node.error("must be at least 1", "frames")
    press = tuple(p.text() for p in node.child("press", []).elements())
    for p in press:
        if p not in inputs or inputs[p].analog:
            raise node.error(f"{p!r} is not a digital input defined under \"inputs\"", "press")
    values = tuple((k, v.integer()) for k, v in node.child("set", {}).items())
    for k, _ in values:
        if k not in inputs or not inputs[k].analog:
            raise node.error(f"{k!r} is not an analog input defined under \"inputs\"", "set")
    writes = []
    for address, value in node.child("write", {}).items():
        try:
            addr = int(address, 0)
        except ValueError:
            raise node.error(f"{address!r} is not an address (e.g. \"0x80\")", "write") from None
        byte = value.integer()
        if addr < 0 or not 0 <= byte <= 255:
            raise value.error("must be a byte (0-255) at a non-negative address")
        writes.append((addr, byte))
    return BootStep(frames, press, values, tuple(writes))


def _ram_region(node: Node, device: str, space: str) -> tuple[str, str, int, int]:
    node.only_keys("device", "space", "start", "length")
    length = node.child("length").integer()
    if length < 1:
        raise node.error("must be at least 1", "length")
    return (node.child("device", device).text(), node.child("space", space).text(),
            node.child("start").integer(), length)


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
    node.only_keys("slot", "file", "md5", "package")
    md5 = node.child("md5", None)
    package = node.child("package", None)
    return Cartridge(node.child("slot", "cart").text(), node.child("file").text(),
                     md5.text().lower() if md5.value is not None else None,
                     package.text() if package.value is not None else None)


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


def _int_tuple(node: Node, size: int, shape: str) -> tuple[int, ...] | None:
    if node.value is None:
        return None
    values = tuple(v.integer() for v in node.elements())
    if len(values) != size or any(v < 0 for v in values):
        raise node.error(f"expected {shape} of non-negative integers")
    return values

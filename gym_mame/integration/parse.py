"""Parsing an integration folder: its JSON files -> the record (``model``), checked.

A folder holds ``metadata.json`` (which MAME machine and media, inputs,
actions, start state), ``data.json`` (named variables: memory addresses with
gym-retro type strings, or machine state entries such as netlist nets),
``scenario.json`` (reward and done, gym-retro semantics) and save states.
The format is documented in ``integrations/README.md``; ``write`` is the way back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from itertools import product
from pathlib import Path

from gym_mame.integration.ale import ALE_ACTIONS
from gym_mame.integration.datatypes import DataType
from gym_mame.integration.expressions import Expression, compile_expression
from gym_mame.integration.folders import folder_file, game_folder, scenario_file, scenario_names
from gym_mame.integration.intervals import Interval
from gym_mame.integration.jsonfile import Node, load_json
from gym_mame.integration.limits import (
    ACTION_SET_NAME,
    ANALOG_LIMIT,
    ENV_ARGUMENTS,
    FILE_NAME,
    FRAMES_LIMIT,
    LENGTH_LIMIT,
    MACHINE_NAME,
    MAX_BOOT_STEPS,
    OPTION_NAME,
    PACKAGE_DIR,
    PACKAGE_NAME,
    PETTINGZOO_NAME,
    check_slot,
)
from gym_mame.integration.model import (
    DEFAULT_STATE,
    Action,
    BootStep,
    Cartridge,
    Input,
    Integration,
    MemoryVariable,
    Nudge,
    Opponent,
    Option,
    OptionStep,
    Patch,
    PlayerSpec,
    Start,
    StateVariable,
    Team,
    Variable,
    fill_boot,
)
from gym_mame.integration.parse_starts import (
    BootParser,
    check_option_steps,
    parse_options,
    parse_states,
)
from gym_mame.integration.scenario import ADDRESS_LIMIT, Scenario, parse_scenario, parse_writes


def load(name_or_folder: str | os.PathLike[str],
         scenario: str | os.PathLike[str] | None = None) -> Integration:
    """Load and validate an integration by game name or folder path, with the rules of
    ``scenario``: the name of a scenario file in its folder (default ``"scenario"``,
    i.e. ``scenario.json``; :func:`list_scenarios` lists them) or a path to one."""
    folder = game_folder(name_or_folder)
    return _parse(folder, scenario_file(folder, scenario))


def list_scenarios(game: str | os.PathLike[str]) -> list[str]:
    """The scenario names of a game (or folder) for ``scenario=``, ``scenario`` first:
    the JSON files of its folder besides metadata.json and data.json (as
    ``retro.data.list_scenarios``)."""
    folder = Path(game)
    if not (folder / "metadata.json").is_file():
        folder = load(game).folder
    return scenario_names(folder)


def list_states(game: str | os.PathLike[str]) -> list[str]:
    """The named start states of a game for ``state=``, the default first (as
    ``retro.data.list_states``)."""
    loaded = load(game)
    return sorted(loaded.states, key=lambda n: n != loaded.default_state)


def list_options(game: str | os.PathLike[str]) -> dict[str, Option]:
    """The game options (``difficulty=...``) of a game: each with its values and default."""
    return dict(load(game).options)


def parse_variable(name: str, spec: object, device: str, space: str,
                   where: Path = Path("<variables>")) -> Variable:
    """One data.json ``info`` entry (``{"address": 204, "type": ">d2"}``, ``{"state":
    [...]}``, ``{"item": ...}``) as the loader reads it; ``device`` and ``space`` are the
    defaults (metadata.json ``memory``), ``where`` names the source in errors."""
    return _variable(name, Node(spec, where, f"variables.{name}"), device, space)


# -- parsing -------------------------------------------------------------------
def _parse(folder: Path, scenario_path: Path) -> Integration:
    meta = Node(load_json(folder_file(folder, "metadata.json")), folder / "metadata.json")
    meta.only_keys(
        "machine", "title", "verified", "notes", "rom_set", "cartridge", "players", "screen",
        "memory", "ram", "inputs", "buttons", "actions", "action_groups", "start",
        "opponent", "crop", "obs_size", "render_fps", "full_actions", "slots",
        "display_aspect", "defaults", "multiplayer", "states", "default_state", "options",
        "checks", "discrete_order", "patches", "action_sets",
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

    data = Node(load_json(folder_file(folder, "data.json")), folder / "data.json")
    data.only_keys("info")
    variables = {name: _variable(name, spec, default_device, default_space)
                 for name, spec in data.child("info").items()}
    scenario_node = Node(load_json(scenario_path), scenario_path)
    ranges = {name: Interval(*var.bounds) for name, var in variables.items()}
    scenario = parse_scenario(scenario_node, set(variables), ranges)

    inputs, nudges = parse_inputs(meta.child("inputs"))
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
    action_sets = _action_sets(meta.child("action_sets", {}), action)
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
    for spec in states.values():  # MAME reads these files, `gym-mame make-state` writes them
        if spec.file is not None:
            key = "start.state" if spec.name == DEFAULT_STATE else f"states.{spec.name}.state"
            folder_file(folder, spec.file.name, f"{folder / 'metadata.json'}: {key}")

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
        try:
            check_slot(name, value)
        except ValueError:
            raise meta.error(f"slot {name!r}: {value!r}: a slot and its option are MAME "
                             "names (lower-case letters, digits and _), e.g. "
                             "\"joyport1\": \"pad\"", "slots") from None
    rom_set = meta.child("rom_set", None)
    if rom_set.value is not None and not MACHINE_NAME.match(rom_set.text()):
        # it becomes <rom path>/<rom_set>.zip and an argument of `mame -listxml`
        raise rom_set.error(f"{rom_set.text()!r} is not a MAME ROM set name (1-32 lower-case "
                            "letters, digits and _, e.g. \"sfiii3n\")")
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
        action_sets=action_sets,
    )


def _action_sets(node: Node, action: Callable[[Node], Action]) -> dict[str, tuple[Action, ...]]:
    """metadata.json ``action_sets``: named discrete action sets (e.g. gym-super-mario-bros's
    ``RIGHT_ONLY``), each in the form of ``actions``, chosen with ``action_set=``."""
    sets: dict[str, tuple[Action, ...]] = {}
    for name, spec in node.items():
        if not ACTION_SET_NAME.match(name):
            raise spec.error("an action set's name is letters, digits and _ (e.g. "
                             "\"SIMPLE_MOVEMENT\")")
        sets[name] = tuple(action(c) for c in spec.elements())
        if not sets[name]:
            raise spec.error("lists no actions")
    return sets


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


def parse_inputs(node: Node) -> tuple[dict[str, Input], dict[str, Nudge]]:
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
        if reference.value is not None and not PETTINGZOO_NAME.match(reference.text()):
            raise reference.error(f"{reference.text()!r} is not one of PettingZoo's env "
                                  "names (a module of pettingzoo.atari, e.g. \"boxing_v2\")")
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
    writes = parse_writes(node)
    until = _until(node.child("until", None), variables)
    return BootStep(frames, press, values, writes, until)


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
    if package.value is not None and not PACKAGE_NAME.match(package.text()):
        raise package.error(f"{package.text()!r} is not a dotted Python package name (e.g. "
                            "\"ale_py\"): the installed distribution that ships the file")
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

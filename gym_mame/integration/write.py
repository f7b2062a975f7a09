"""Writing the record as an integration folder: the one serializer, the parser's way back.

:func:`metadata_json`, :func:`data_json` and :func:`scenario_json` give the three files'
contents, and :func:`write_folder` writes them (and copies the start state files), so
that ``load(folder)`` gives the record again (folder and paths aside): what the round-trip
test checks on every shipped integration. Values a file may leave out are left out when
they are the parser's defaults. :func:`write_files` lays JSON out as the bundled folders
are (the studio writes through it).

What the record no longer knows is written in its resolved form: a ``from`` chain as the
whole boot, ``"full_actions": "ale"`` when the full set is the ALE's, a repeated run of
boot steps as ``{"repeat": n, "steps": [...]}``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

from gym_mame.integration.ale import ALE_ACTIONS
from gym_mame.integration.expressions import Expression
from gym_mame.integration.folders import folder_file
from gym_mame.integration.jsonfile import dumps
from gym_mame.integration.model import (
    DEFAULT_STATE,
    Action,
    BootStep,
    Cartridge,
    Input,
    Integration,
    MemoryVariable,
    Nudge,
    Option,
    OptionStep,
    Team,
    Variable,
)
from gym_mame.integration.scenario import AfterStep, DoneGroup, Measure, PlayerRules, Scenario

Json = dict[str, Any]
MIN_REPEAT = 3  # a run of boot steps repeated this often is written as one "repeat"
MAX_REPEAT = 100_000  # the parser's limit of "repeat"
MAX_BLOCK = 16  # the longest run of steps looked for when writing a "repeat"


# -- the folder ------------------------------------------------------------------
def write_files(folder: Path, files: Mapping[str, Any]) -> None:
    """Write each ``name: content`` of ``files`` as JSON in ``folder``, in the layout of
    the bundled folders (a value that fits on a line stays on one)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        folder_file(folder, name).write_text(dumps(content) + "\n", encoding="utf-8")


def write_folder(game: Integration, folder: Path, copy_states: bool = True) -> Path:
    """Write ``game`` as the integration folder ``folder`` (its rules as scenario.json)
    and, with ``copy_states``, copy the state files it names that exist; return it."""
    folder = Path(folder)
    write_files(folder, {"metadata.json": metadata_json(game), "data.json": data_json(game),
                         "scenario.json": scenario_json(game.scenario)})
    if copy_states:
        for spec in game.states.values():
            if spec.file is not None and spec.file.is_file():
                target = folder_file(folder, spec.file.name)
                if spec.file.resolve() != target.resolve():
                    shutil.copyfile(spec.file, target)
    return folder


# -- metadata.json ------------------------------------------------------------------
def metadata_json(game: Integration) -> Json:
    """metadata.json of ``game``."""
    device, space = game.memory
    out: Json = {"title": game.title, "machine": game.machine}
    if game.rom_set is not None:
        out["rom_set"] = game.rom_set
    if game.cartridge is not None:
        out["cartridge"] = cartridge_json(game.cartridge)
    if not game.verified:
        out["verified"] = False
    if game.notes:
        out["notes"] = game.notes
    out["players"] = game.players
    if game.slots:
        out["slots"] = dict(game.slots)
    if game.screen:
        out["screen"] = game.screen
    out["memory"] = {"device": device, "space": space}
    if game.ram:
        out["ram"] = [_omit({"device": d, "space": s, "start": start, "length": length},
                            device=device, space=space) for d, s, start, length in game.ram]
    out["inputs"] = {**{n: input_json(i) for n, i in game.inputs.items()},
                     **{n: nudge_json(u) for n, u in game.nudges.items()}}
    out.update(_actions_json(game))
    out.update(_states_json(game))
    if game.options:
        out["options"] = {name: option_json(o) for name, o in game.options.items()}
    if game.teams:
        out["multiplayer"] = {str(c): team_json(t) for c, t in sorted(game.teams.items())}
    if game.opponent is not None:
        o = game.opponent
        out["opponent"] = {"input": o.input, "follow": o.follow, "scale": _number(o.scale),
                           "offset": _number(o.offset), "speed": _number(o.speed),
                           "description": o.description}
    if game.crop is not None:
        out["crop"] = list(game.crop)
    if game.obs_size is not None:
        out["obs_size"] = list(game.obs_size)
    if game.render_fps is not None:
        out["render_fps"] = _number(game.render_fps)
    if game.display_aspect is not None:
        out["display_aspect"] = aspect_text(game.display_aspect)
    if game.defaults:
        out["defaults"] = dict(game.defaults)
    if game.checks:
        out["checks"] = [{"what": what, "how": how} for what, how in game.checks]
    if game.patches:
        out["patches"] = [{"region": p.region, "offset": p.offset,
                           "original": p.original.hex().upper(), "bytes": p.data.hex().upper(),
                           "why": p.why} for p in game.patches]
    return out


def cartridge_json(cartridge: Cartridge) -> Json:
    """metadata.json's ``cartridge``: every field the loader reads, defaults left out."""
    out: Json = {"slot": cartridge.slot, "file": cartridge.file}
    for key in ("md5", "sha1", "package"):
        if getattr(cartridge, key) is not None:
            out[key] = getattr(cartridge, key)
    if cartridge.package_dir != "roms":
        out["package_dir"] = cartridge.package_dir
    return out


def input_json(spec: Input) -> Json:
    """An ``inputs`` entry of a MAME input field: digital, ``analog`` or ``dial``."""
    out: Json = {"port": spec.port, "field": spec.field}
    if not spec.analog:
        return out
    body: Json = {"min": spec.low, "max": spec.high}
    if spec.initial != (spec.low if spec.wrap else (spec.low + spec.high) // 2):
        body["initial"] = spec.initial
    if spec.max_speed is not None and not (spec.wrap and spec.max_speed == spec.dial_limit):
        body["max_speed"] = _number(spec.max_speed)
    out["dial" if spec.wrap else "analog"] = body
    return out


def nudge_json(nudge: Nudge) -> Json:
    """An ``inputs`` entry of a nudge button."""
    return {"nudge": nudge.target, "speed": _number(nudge.speed)}


def action_json(action: Action) -> list[str] | Json:
    """An action: its button list, or ``{"name", "buttons"}`` when it has a name of its own."""
    if action.name == _label(action.buttons):
        return list(action.buttons)
    return {"name": action.name, "buttons": list(action.buttons)}


def _label(buttons: Sequence[str]) -> str:
    """The name the parser gives an action without one."""
    return "".join(buttons) or "NOOP"


def _actions_json(game: Integration) -> Json:
    """``buttons``, ``actions``, ``action_groups``, ``discrete_order``, ``full_actions`` and
    ``action_sets``: the discrete actions written as groups alone when they are the
    groups' combinations, as the folder most likely gave them."""
    out: Json = {}
    groups = game.action_groups
    order = next((o for o in ("product", "retro") if groups and _combined(groups, o)
                  == game.actions), None)
    used: list[str] = []  # the buttons the parser finds used, in its order
    for action in [a for g in groups for a in g] + ([] if order else list(game.actions)):
        used += [b for b in action.buttons if b not in used]
    if tuple(used) != game.buttons:
        out["buttons"] = list(game.buttons)
    if order is None:
        out["actions"] = [action_json(a) for a in game.actions]
    if groups:
        out["action_groups"] = [[action_json(a) for a in g] for g in groups]
    if order == "retro":
        out["discrete_order"] = "retro"
    if game.full_actions is not None:
        ale = tuple(Action(_label(c), c) for c in ALE_ACTIONS)
        out["full_actions"] = "ale" if game.full_actions == ale else [
            action_json(a) for a in game.full_actions]
    if game.action_sets:
        out["action_sets"] = {name: [action_json(a) for a in actions]
                              for name, actions in game.action_sets.items()}
    return out


def _combined(groups: Sequence[Sequence[Action]], order: str) -> tuple[Action, ...]:
    """The discrete actions the parser makes of ``groups`` in ``order`` (as its
    ``discrete_order``)."""
    combos = (product(*groups) if order == "product"
              else (tuple(reversed(c)) for c in product(*reversed(groups))))
    actions = (Action("_".join(a.name for a in combo if a.buttons) or "NOOP",
                      tuple(b for a in combo for b in a.buttons)) for combo in combos)
    return tuple(sorted(actions, key=lambda a: bool(a.buttons)))


def _states_json(game: Integration) -> Json:
    """``start``, ``states`` and ``default_state`` (each boot whole: no ``from``)."""
    out: Json = {}
    states: Json = {}
    for name, spec in game.states.items():
        entry: Json = {}
        if spec.file is not None:
            entry["state"] = spec.file.name
        if spec.mame_version is not None:
            entry["mame_version"] = spec.mame_version
        if spec.boot:
            entry["boot"] = boot_json(spec.boot)
        if spec.description:
            entry["description"] = spec.description
        if name == DEFAULT_STATE:
            out["start"] = entry
        else:
            states[name] = entry
    if states:
        out["states"] = states
    if game.default_state != DEFAULT_STATE:
        out["default_state"] = game.default_state
    return out


def option_json(option: Option) -> Json:
    """An ``options`` entry: each value's boot steps, the default and the description."""
    out: Json = {"values": {v: boot_json(steps) for v, steps in option.values.items()},
                 "default": option.default}
    if option.description:
        out["description"] = option.description
    return out


def team_json(team: Team) -> Json:
    """A ``multiplayer`` entry (its rules are the scenario's ``players``)."""
    players = []
    for player in team.players:
        entry: Json = {}
        if player.buttons:
            entry["buttons"] = dict(player.buttons)
        if player.actions is not None:
            entry["actions"] = [action_json(a) for a in player.actions]
        players.append(entry)
    out: Json = {"players": players}
    if team.boot is not None:
        out["boot"] = boot_json(team.boot)
    if team.pettingzoo is not None:
        out["pettingzoo"] = team.pettingzoo
    return out


def boot_json(steps: Sequence[BootStep | OptionStep]) -> list[Json]:
    """Boot steps, a run repeated ``MIN_REPEAT`` times or more as one ``repeat``."""
    out: list[Json] = []
    i = 0
    while i < len(steps):
        block, times = _run(steps, i)
        if times >= MIN_REPEAT:
            out.append({"repeat": times, "steps": [step_json(s) for s in steps[i:i + block]]})
            i += block * times
        else:
            out.append(step_json(steps[i]))
            i += 1
    return out


def _run(steps: Sequence[BootStep | OptionStep], at: int) -> tuple[int, int]:
    """The run of steps from ``at`` that repeats most, as (its length, how often)."""
    best = (1, 1)
    for block in range(1, min(MAX_BLOCK, (len(steps) - at) // MIN_REPEAT) + 1):
        pattern = steps[at:at + block]
        times = 1
        while times < MAX_REPEAT and steps[at + times * block:at + (times + 1) * block] \
                == pattern:
            times += 1
        if times >= MIN_REPEAT and block * times > best[0] * best[1]:
            best = (block, times)
    return best


def step_json(step: BootStep | OptionStep) -> Json:
    """One boot step: ``{"frames", "press", "set", "write", "until"}`` or ``{"option"}``."""
    if isinstance(step, OptionStep):
        return {"option": step.name}
    out: Json = {"frames": step.frames}
    if step.press:
        out["press"] = list(step.press)
    if step.set:
        out["set"] = {name: _number(value) for name, value in step.set}
    if step.write:
        out["write"] = writes_json(step.write)
    if step.until is not None:
        out["until"] = step.until.text
    return out


def writes_json(writes: Sequence[tuple[int, int]]) -> Json:
    """A ``write`` object: ``{"0x80": 3, ...}``."""
    return {hex_text(address): byte for address, byte in writes}


def aspect_text(aspect: float) -> str:
    """``display_aspect`` as ``"width:height"``: small whole numbers when they give the
    ratio exactly (``"4:3"``), else the ratio itself over 1."""
    fraction = Fraction(aspect).limit_denominator(10_000)
    if fraction.numerator / fraction.denominator == aspect:
        return f"{fraction.numerator}:{fraction.denominator}"
    return f"{aspect!r}:1"


# -- data.json ----------------------------------------------------------------------
def data_json(game: Integration) -> Json:
    """data.json of ``game``."""
    return {"info": {name: variable_json(v, game.memory) for name, v in game.variables.items()}}


def variable_json(variable: Variable, memory: tuple[str, str] = (":maincpu", "program")) -> Json:
    """A data.json variable; ``memory`` is the folder's default (device, space)."""
    device, space = memory
    if isinstance(variable, MemoryVariable):
        out: Json = {"address": (hex_text(variable.address) if variable.contiguous
                                 else [hex_text(a) for a in variable.addresses]),
                     "type": variable.type.text}
        out.update(_omit({"device": variable.device, "space": variable.space},
                         device=device, space=space))
        if variable.mask is not None:
            out["mask"] = hex_text(variable.mask)
        if variable.shift:
            out["shift"] = variable.shift
    else:
        entries: Any = variable.entries[0] if len(variable.entries) == 1 \
            else list(variable.entries)
        out = {"item" if variable.items else "state": entries}
        if variable.device != device:
            out["device"] = variable.device
        count = len(variable.entries)
        if variable.weights != (tuple(1 << i for i in range(count)) if count > 1 else (1,)):
            out["weights"] = list(variable.weights)
    if variable.range is not None:
        out["range"] = list(variable.range)
    return out


# -- scenario.json --------------------------------------------------------------------
def scenario_json(scenario: Scenario) -> Json:
    """scenario.json of ``scenario``."""
    out: Json = {}
    if scenario.derived:
        out["variables"] = {d.name: (d.expression.text if d.initial == 0 else
                                     {"expression": d.expression.text,
                                      "initial": _number(d.initial)})
                            for d in scenario.derived}
    out.update(_rules_json(scenario))
    if scenario.every_frame:
        out["every_frame"] = True
    if scenario.players:
        out["players"] = {str(count): [_player_json(p) for p in rules]
                          for count, rules in sorted(scenario.players.items())}
    if scenario.after_step:
        out["after_step"] = [_after_json(a) for a in scenario.after_step]
    return out


def _rules_json(scenario: Scenario) -> Json:
    """``reward`` and ``done`` (the game's, or one player's)."""
    reward: Json = {}
    if scenario.terms:
        reward["variables"] = {
            t.measure.variable: {**_measure_json(t.measure, "delta"),
                                 **_omit({"reward": _number(t.reward),
                                          "penalty": _number(t.penalty)},
                                         reward=0, penalty=0)}
            for t in scenario.terms}
    if scenario.time_reward:
        reward["time"] = {"reward": _number(scenario.time_reward)}
    _put(reward, "expression", scenario.reward_expression)
    done = _done_json(scenario.done_group)
    _put(done, "expression", scenario.done_expression)
    return {"reward": reward, "done": done}


def _put(into: Json, key: str, expression: Expression | None) -> None:
    """``into[key]``: ``expression``'s text, when there is one."""
    if expression is not None:
        into[key] = expression.text


def _measure_json(measure: Measure, default_measurement: str) -> Json:
    out: Json = {}
    if measure.measurement != default_measurement:
        out["measurement"] = measure.measurement
    if measure.op is not None:
        out["op"] = measure.op
    if measure.reference:
        out["reference"] = _number(measure.reference)
    return out


def _done_json(group: DoneGroup) -> Json:
    out: Json = {}
    if group.tests:
        out["variables"] = {t.variable: _measure_json(t, "absolute") for t in group.tests}
    if group.nodes:  # their names are not kept: numbered
        out["nodes"] = {str(i): _done_json(n) for i, n in enumerate(group.nodes)}
    if group.require_all:
        out["condition"] = "all"
    return out


def _player_json(rules: PlayerRules) -> Json:
    out = _rules_json(rules.scenario)
    if rules.lives is not None:
        out["lives"] = rules.lives
    return out


def _after_json(rule: AfterStep) -> Json:
    out: Json = {}
    _put(out, "when", rule.when)
    _put(out, "while", rule.loop)
    if rule.write:
        out["write"] = writes_json(rule.write)
    if rule.frames:
        out["frames"] = rule.frames
    out["max_frames"] = rule.max_frames
    return out


# -- values ------------------------------------------------------------------------
def hex_text(value: int) -> str:
    """An address or a mask as the bundled folders write it: ``"0x9F"``."""
    return f"0x{value:X}" if value >= 0 else str(value)


def _number(value: float) -> float | int:
    """A whole number as an integer (``3``, not ``3.0``), as a person writes it."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _omit(entry: Json, **defaults: Any) -> Json:
    """``entry`` without the keys whose value is the default given."""
    return {k: v for k, v in entry.items() if k not in defaults or v != defaults[k]}

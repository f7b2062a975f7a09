"""The one serializer and the one parser agree (pure logic, no MAME): every shipped
integration, loaded, written to a new folder and loaded again, is the same record; and
the studio's writer, which writes through the serializer, writes folders that load as
what the studio holds."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gym_mame import integration
from gym_mame.integration import write
from gym_mame.integration.jsonfile import dumps
from gym_mame.integration.model import BootStep, Integration, StateSpec
from gym_mame.studio import inputs as studio_inputs
from gym_mame.studio.writer import build_files, write_integration
from gym_mame.wire.resources import integrations_dir

pytestmark = pytest.mark.pure  # runs without MAME

SHIPPED = sorted(p for p in integrations_dir().iterdir() if (p / "metadata.json").is_file())
ROOT_FOLDER = Path(__file__).resolve().parent.parent / "integrations"


def rebased(game: Integration) -> Integration:
    """``game`` with its folder, name and state files' folder left out: what a copy of the
    folder elsewhere must have the same."""
    def relative(path: Path | None) -> Path | None:
        return None if path is None else Path(path.name)

    return replace(game, name="", folder=Path("."),
                   states={n: replace(s, file=relative(s.file)) for n, s in game.states.items()},
                   starts=tuple(replace(s, file=relative(s.file)) for s in game.starts))


def round_trip(game: Integration, folder: Path) -> Integration:
    write.write_folder(game, folder)
    return integration.load(folder)


def test_every_shipped_folder_is_found_bundled_and_in_the_repository() -> None:
    assert len(SHIPPED) > 50
    assert {p.name for p in SHIPPED} == {p.name for p in ROOT_FOLDER.iterdir()
                                          if (p / "metadata.json").is_file()}


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_load_write_load_gives_the_same_record(folder: Path, tmp_path: Path) -> None:
    for scenario in integration.list_scenarios(folder):
        game = integration.load(folder, scenario=scenario)
        again = round_trip(game, tmp_path / scenario / folder.name)
        # another scenario is written as the folder's scenario.json
        assert rebased(again) == rebased(replace(game, scenario_name="scenario")), scenario
        assert again.name == folder.name
        for spec in game.states.values():  # the start states travel with the record
            if spec.file is not None and spec.file.is_file():
                written = again.states[spec.name].file
                assert written.parent == tmp_path / scenario / folder.name
                assert written.read_bytes() == spec.file.read_bytes()


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_writing_a_written_folder_gives_the_same_files(folder: Path, tmp_path: Path) -> None:
    first = write.write_folder(integration.load(folder), tmp_path / "a" / folder.name)
    second = write.write_folder(integration.load(first), tmp_path / "b" / folder.name)
    for name in ("metadata.json", "data.json", "scenario.json"):
        text = (second / name).read_text()
        assert text == (first / name).read_text()
        assert text == dumps(json.loads(text)) + "\n"  # the bundled folders' layout


def test_a_changed_record_is_written_changed(tmp_path: Path) -> None:
    """The round trip compares what could differ: a field changed before writing is read back."""
    game = integration.load("tempest1")
    start = game.states["start"]
    longer = replace(start, boot=(*start.boot, BootStep(7, ("FIRE",))))
    changed = replace(game, title="other", states={**game.states, "start": longer},
                      defaults={"frameskip": 5})
    again = round_trip(changed, tmp_path / "tempest1")
    assert rebased(again) != rebased(game)
    assert again.title == "other" and again.defaults == {"frameskip": 5}
    assert again.states["start"].boot[-1] == BootStep(7, ("FIRE",))
    assert again.boot[-1] == BootStep(7, ("FIRE",))  # the start played is the new boot


def test_what_the_record_no_longer_knows_is_written_resolved() -> None:
    """Repeats, the ALE table and action groups as a folder gives them; ``from`` whole."""
    name_this_game = write.metadata_json(integration.load("a2600-name_this_game"))
    assert name_this_game["full_actions"] == "ale"
    repeat = [s for s in name_this_game["start"]["boot"] if "repeat" in s]
    assert repeat == [{"repeat": 129, "steps": [{"frames": 2, "press": ["SELECT"]},
                                                {"frames": 1}]}]
    tempest = write.metadata_json(integration.load("tempest1"))
    assert "actions" not in tempest and len(tempest["action_groups"]) == 2
    # a dial's max_speed is left out when it is the default: half the dial, less one
    assert tempest["inputs"]["SPINNER"] == {"port": ":KNOBP1", "field": "Dial",
                                            "dial": {"min": 0, "max": 15}}
    assert write.input_json(replace(integration.load("tempest1").inputs["SPINNER"],
                                    max_speed=5.0))["dial"]["max_speed"] == 5
    assert tempest["start"]["boot"][4] == {"frames": 600, "until": "gamestate == 0x16"}
    assert write.aspect_text(4 / 3) == "4:3"
    assert float.__truediv__(*map(float, write.aspect_text(1.2345678901).split(":"))) \
        == 1.2345678901


def test_a_from_chain_is_written_as_the_whole_boot(tmp_path: Path) -> None:
    game = integration.load("pong")
    base = game.states["start"]
    chained = {**game.states, "later": StateSpec("later", (*base.boot, BootStep(30)), None,
                                                 None, "thirty frames on")}
    again = round_trip(replace(game, states=chained), tmp_path / "pong")
    assert again.states["later"] == chained["later"]
    assert "from" not in json.loads((tmp_path / "pong" / "metadata.json").read_text())[
        "states"]["later"]


def test_a_bare_machine_writes_a_folder_that_loads(tmp_path: Path) -> None:
    bare = integration.bare("pong")
    spec = StateSpec("start", (BootStep(60, (), (), ((0x80, 3),)),), None, None)
    game = replace(bare, states={"start": spec})
    again = round_trip(game, tmp_path / "pong")
    assert again.states["start"].boot == spec.boot
    assert json.loads((tmp_path / "pong" / "metadata.json").read_text())["start"] == {
        "boot": [{"frames": 60, "write": {"0x80": 3}}]}


# -- the studio's writer -------------------------------------------------------------------
def studio_session(name: str, tmp_path: Path) -> SimpleNamespace:
    """What a studio Session holds for writing, as it holds it (the record written by the
    one serializer), without MAME: its saved state is a file of the test's own."""
    game = integration.load(name)
    state = tmp_path / "saved.sta"
    state.write_bytes(b"a saved state")
    history = [{"frames": 60}, {"frames": 4, "press": [button(game)]}]
    return SimpleNamespace(
        lock=threading.Lock(), game=game, machine=game.machine, mame_version="0.251",
        slots={"s1": SimpleNamespace(history=history)},
        emulator=SimpleNamespace(state_file=lambda _name: state),
        inputs=studio_inputs.from_integration(game), keymap={}, active=[],
        metadata_base=write.metadata_json(game),
        cartridge=write.cartridge_json(game.cartridge) if game.cartridge else None,
        machine_slots=dict(game.slots), screen=game.screen,
        variable_specs=write.data_json(game)["info"],
        scenario_text=dumps(write.scenario_json(game.scenario)))


def button(game: Integration) -> str:
    """A digital input of ``game``, which a boot step may press."""
    return next(n for n, i in game.inputs.items() if not i.analog)


def actions_of(game: Integration) -> list[Any]:
    return [list(a.buttons) for a in game.actions]


@pytest.mark.parametrize("name", ["tempest1", "a2600-boxing", "pong", "genesis-airstriker"])
def test_the_studio_writes_the_record_it_opened(name: str, tmp_path: Path) -> None:
    """A folder written by the studio from an integration keeps all of it (a dial's
    max_speed, the players, options, states), with the studio's start and actions."""
    session = studio_session(name, tmp_path)
    folder = write_integration(session, tmp_path / "out" / f"{name}-studio", "s1",  # type: ignore[arg-type]
                               actions_of(session.game))
    written = integration.load(folder)
    source = session.game
    for field in ("machine", "cartridge", "inputs", "nudges", "variables", "scenario",
                  "teams", "options", "slots", "ram", "memory", "crop", "defaults", "checks"):
        assert getattr(written, field) == getattr(source, field), field
    assert [a.buttons for a in written.actions] == [a.buttons for a in source.actions]
    start = written.states["start"]
    assert start.file == folder / "start.sta" and start.file.read_bytes() == b"a saved state"
    assert start.mame_version == "0.251"
    assert start.boot == (BootStep(60), BootStep(4, (button(source),)))
    assert written.default_state == "start"
    for file in ("metadata.json", "data.json", "scenario.json"):  # the one layout
        text = (folder / file).read_text()
        assert text == dumps(json.loads(text)) + "\n"


def test_the_studio_writes_a_bare_machines_folder(tmp_path: Path) -> None:
    session = studio_session("pong", tmp_path)
    game = session.game
    session.game, session.metadata_base = None, {}
    session.variable_specs = {"score": {"address": "0x10", "type": "|u1"}}
    session.scenario_text = json.dumps({"reward": {"variables": {"score": {"reward": 1}}}})
    metadata, data, _, _ = build_files(session, "mine", "s1",  # type: ignore[arg-type]
                                       actions_of(game))
    assert metadata["machine"] == "pong" and metadata["title"] == "mine (pong)"
    assert data == {"info": {"score": {"address": "0x10", "type": "|u1"}}}
    folder = write_integration(session, tmp_path / "mine", "s1",  # type: ignore[arg-type]
                               actions_of(game))
    written = integration.load(folder)
    assert set(written.variables) == {"score"} and written.variables["score"].address == 0x10
    assert [a.buttons for a in written.actions] == [a.buttons for a in game.actions]


def test_a_studio_folder_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    from gym_mame.studio.session import StudioError

    session = studio_session("pong", tmp_path)
    session.scenario_text = json.dumps({"reward": {"variables": {"nothing": {"reward": 1}}}})
    with pytest.raises(StudioError, match="would not load"):
        write_integration(session, tmp_path / "broken", "s1",  # type: ignore[arg-type]
                          actions_of(session.game))
    assert not (tmp_path / "broken").exists()

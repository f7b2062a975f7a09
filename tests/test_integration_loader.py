"""Loading and validating integration folders (pure logic, no MAME)."""

import json
import math
from pathlib import Path

import pytest

from gym_mame import integration
from gym_mame.errors import IntegrationError, UnknownNameError
from gym_mame.integration import MemoryVariable, StateVariable, save_item_range
from gym_mame.integration.datatypes import DataType
from gym_mame.integration.intervals import Interval
from gym_mame.integration.names import closest

pytestmark = pytest.mark.pure  # runs without MAME


def test_every_bundled_integration_loads() -> None:
    folders = integration.find_folders()
    assert {"pong", "a2600-breakout", "sfiii3n"} <= set(folders)
    for name in folders:
        game = integration.load(name)
        # NOOP first, except where ALE's minimal set has none (Video Checkers)
        assert ((game.actions[0].name == "NOOP" and game.actions[0].buttons == ())
                or name == "a2600-video_checkers"), name
        derived = {d.name for d in game.scenario.derived}
        assert game.scenario.variables <= set(game.variables) | derived


def test_breakout_definition() -> None:
    game = integration.load("a2600-breakout")
    assert [a.name for a in game.actions] == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert game.full_actions is not None and len(game.full_actions) == 18
    assert [a.name for a in game.full_actions][:7] == [
        "NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT"]
    assert game.full_actions[-1].name == "DOWNLEFTFIRE"
    hundreds = game.variables["score_hundreds"]  # ALE reads only the low nibble
    assert isinstance(hundreds, MemoryVariable) and hundreds.address == 0xCC
    assert hundreds.decode(b"\x31") == 1
    assert game.slots == {"joyport1": "pad"}
    assert game.ram == ((":maincpu", "program", 128, 128),)
    assert game.scenario.every_frame
    assert [d.name for d in game.scenario.derived] == ["score", "started", "lives"]


def test_sfiii3n_action_groups_follow_mametoolkit() -> None:
    game = integration.load("sfiii3n")
    assert [len(g) for g in game.action_groups] == [9, 10]
    assert len(game.actions) == 90 and game.actions[0].name == "NOOP"
    assert game.verified is False
    assert game.rom_set == "sfiii3n"


def test_state_variable_weights() -> None:
    var = StateVariable("s", ":maincpu", ("a", "b", "c"), (1, 2, 10))
    assert var.decode([1.0, 1.0, 1.0]) == 13
    bits = [Interval(0, 1)] * 3
    assert var.bounds_from(bits) == (0, 13)
    assert var.bounds == (-math.inf, math.inf)  # MAME 0.251 tells nothing of state entries


def test_state_variable_range_is_the_weighted_sum_of_its_entries_ranges() -> None:
    # Pong's ball counter: two 4-bit counters kept in 32-bit save items.
    counters = [save_item_range(4), save_item_range(4)]
    var = StateVariable("ball", ":maincpu", ("hi", "lo"), (16, 1), items=True)
    assert var.bounds_from(counters) == (0, 17 * (2**32 - 1))
    declared = StateVariable("ball", ":maincpu", ("hi", "lo"), (16, 1), True, (0, 255))
    assert declared.bounds_from(counters) == (0, 255) and declared.bounds == (0, 255)
    signed = StateVariable("d", ":maincpu", ("a", "b"), (1, -3), items=True)
    assert signed.bounds_from([save_item_range(1), save_item_range(1)]) == (-765, 255)
    assert save_item_range(8) == Interval(-(2**63), 2**63)  # a Lua integer, sent as a double
    with pytest.raises(ValueError, match=r"range \[300, 400\] lies outside the values"):
        StateVariable("x", ":maincpu", ("a",), (1,), True, (300, 400)).bounds_from(
            [save_item_range(1)])


def test_memory_variable_bounds_follow_type_mask_shift_and_range() -> None:
    def var(text: str, mask: int | None = None, shift: int = 0, declared=None):
        dtype = DataType.parse(text)
        return MemoryVariable("v", ":maincpu", "program", (0,), dtype, mask, shift, declared)

    assert var("|u1", 0x70, 4).bounds == (0, 7)
    assert var("|i1", 0xFF).bounds == (0, 255)  # a mask makes a signed byte non-negative
    assert var("|i1").bounds == (-128, 127)
    assert var(">d2", None, 0, (0, 50)).bounds == (0, 50)
    for raw in range(256):  # every byte decodes inside the bounds
        for v in (var("|i1", 0x3C, 2), var("|u1", -16), var("|i1", -16, 1)):
            low, high = v.bounds
            assert low <= v.decode(bytes([raw])) <= high, (v, raw)


def test_unknown_game_names_the_closest_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="unknown game 'breakout'; closest: a2600-breakout"
                       r"\. `gym-mame list`"):
        integration.load("breakout")
    with pytest.raises(IntegrationError, match="'a2600-seaquets'; closest: a2600-seaquest\\."):
        integration.load("a2600-seaquets")  # and not every a2600-* name: only the close one
    with pytest.raises(IntegrationError, match="'no-such-game'; no known game is close"):
        integration.load("no-such-game")


def test_closest_names() -> None:
    games = list(integration.find_folders())
    assert closest("pacman", games) == ["a2600-ms_pacman"]
    assert closest("Pong", games) == ["pong", "pongd", "a2600-pong"]
    assert closest("spaceinvaders", games) == ["a2600-space_invaders"]
    assert closest("zzzz", games) == []


def test_user_folders_from_environment(integration_copy, monkeypatch) -> None:
    folder = integration_copy("a2600-breakout")
    renamed = folder.parent / "my-breakout"
    folder.rename(renamed)
    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", str(renamed.parent))
    assert integration.find_folders()["my-breakout"] == renamed
    assert integration.load("my-breakout").machine == "a2600"


def _edit(folder: Path, file: str, change) -> None:
    path = folder / file
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_malformed_json_names_file_and_line(integration_copy) -> None:
    folder = integration_copy("a2600-breakout")
    (folder / "data.json").write_text('{\n  "info": {\n    "score": {"address": 204,}\n')
    with pytest.raises(IntegrationError, match=r"data.json: not valid JSON at line 3"):
        integration.load(folder)


def test_missing_file(integration_copy) -> None:
    folder = integration_copy("a2600-breakout")
    (folder / "scenario.json").unlink()
    with pytest.raises(IntegrationError, match="scenario.json: file is missing"):
        integration.load(folder)


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("data.json", lambda d: d["info"]["score_low"].update(type=">q2"),
         "info.score_low.type: type '>q2'"),
        ("data.json", lambda d: d["info"]["score_low"].pop("address"),
         "info.score_low.address: is required but missing"),
        ("data.json", lambda d: d["info"]["score_low"].update(adress=1),
         "info.score_low.adress: unknown key"),
        ("data.json", lambda d: d["info"]["score_low"].update(address=[1, 2]),
         "info.score_low.address: lists 2 addresses but type '|d1' reads 1 bytes"),
        ("data.json", lambda d: d["info"]["score_low"].update(shift=99),
         "info.score_low.shift: must be from 0 to 63"),
        ("metadata.json", lambda d: d.update(actions=[]), "actions: lists no actions"),
        ("metadata.json", lambda d: d.update(actions=[[], ["JUMP"]]),
         "actions[1][0]: unknown button 'JUMP'"),
        ("metadata.json", lambda d: d.update(full_actions=[[], ["JUMP"]]),
         "full_actions[1][0]: unknown button 'JUMP'"),
        ("metadata.json", lambda d: d.update(slots={"joyport1": "pad; rm"}),
         "slots: slot 'joyport1'"),
        ("metadata.json", lambda d: d.pop("machine"), "machine: is required"),
        ("metadata.json", lambda d: d.update(crop=[0, 0, 10]), "crop: expected [x, y"),
        ("metadata.json", lambda d: d["start"]["boot"].append({"frames": 0}),
         "start.boot[3].frames: must be from 1 to 4294967295"),
        ("metadata.json", lambda d: d["start"]["boot"].append({"frames": 1, "press": ["X"]}),
         "'X' is not a digital input"),
        ("metadata.json", lambda d: d["start"]["boot"].append({"repeat": 0, "steps": []}),
         "start.boot[3].repeat: must be from 1 to 100000"),
        ("metadata.json", lambda d: d["start"]["boot"].append({"repeat": 2, "steps": []}),
         "start.boot[3].steps: needs at least one step"),
        ("scenario.json", lambda d: d["done"].update(variables={"level": {"op": "zero"}}),
         "uses variable 'level', which data.json does not define"),
        ("scenario.json", lambda d: d["done"].update(expression="started and level == 0"),
         "done.expression: unknown variable 'level'"),
        ("scenario.json", lambda d: d["reward"].update(expression="score -"),
         "reward.expression: syntax error"),
        ("scenario.json", lambda d: d["reward"].update(expression="__import__('os')"),
         "unknown function '__import__'; use prev, min, max or abs"),
        ("scenario.json", lambda d: d["reward"].update(expression="score.real"),
         "Attribute is not allowed"),
        ("scenario.json", lambda d: d["variables"].update(lives_byte="1"),
         "variables.lives_byte: 'lives_byte' is already a data.json variable"),
        ("scenario.json", lambda d: d["variables"].update(score="started + 1"),
         "variables.score: unknown variable 'started'"),
        ("scenario.json", lambda d: d["variables"].update(
            score="score_low * 100000000000 * 100000000000"),
         "variables.score: 'score_low * 100000000000 * 100000000000' can reach"),
        ("scenario.json", lambda d: d["variables"].update(lives="-" * 1990 + "lives_byte"),
         "variables.lives: '----------------------------------------'... nests more"),
        ("scenario.json", lambda d: d["variables"].update(
            started={"expression": "prev(started)", "initial": 1e300}),
         "variables.started.initial: must be a number within ±2**63"),
        ("data.json", lambda d: d["info"]["lives_byte"].update(range=[5, 1]),
         "info.lives_byte.range: expected [low, high]"),
        ("data.json", lambda d: d["info"]["lives_byte"].update(range=[300, 400]),
         "info.lives_byte.range: range [300, 400] lies outside the values [0, 255]"),
    ],
)
def test_invalid_files_name_file_key_and_problem(integration_copy, file, change, message):
    folder = integration_copy("a2600-breakout")
    _edit(folder, file, change)
    with pytest.raises(IntegrationError) as info:
        integration.load(folder)
    assert file in str(info.value)
    assert message in str(info.value)


def test_boot_repeat_expands_in_order() -> None:
    game = integration.load("a2600-name_this_game")  # 129 Select presses reach its mode
    selects = [step for step in game.boot if step.press == ("SELECT",)]
    assert len(selects) == 129
    assert game.boot[2].press == ("SELECT",) and game.boot[3].press == ()
    assert game.boot[-1].press == ("RESET",)


def test_display_aspect_is_read_and_checked(integration_copy) -> None:
    assert integration.load("pong").display_aspect == 4 / 3
    assert integration.load("a2600-breakout").display_aspect is None  # ALE's 210x160
    folder = integration_copy("pong")
    meta = json.loads((folder / "metadata.json").read_text())
    for bad in ("4x3", "4:0", "4:3:1", 1.33):
        meta["display_aspect"] = bad
        (folder / "metadata.json").write_text(json.dumps(meta))
        with pytest.raises(IntegrationError, match="display_aspect"):
            integration.load(folder)


def test_a_players_own_actions_may_start_with_buttons_but_not_be_empty(integration_copy) -> None:
    folder = integration_copy("a2600-wizard_of_wor")
    team = integration.load(folder).teams[2]
    assert [a.name for a in team.players[0].actions[:2]] == ["FIRE", "UP"]
    _edit(folder, "metadata.json",
          lambda d: d["multiplayer"]["2"]["players"][0].update(actions=[]))
    with pytest.raises(IntegrationError, match=r"players\[0\]\.actions: lists no actions"):
        integration.load(folder)


@pytest.fixture
def nesting_bomb(integration_copy, monkeypatch) -> Path:
    """A user folder on $GYM_MAME_INTEGRATIONS whose scenario.json is 100,000 nested '['."""
    folder = integration_copy("a2600-breakout")
    bomb = folder.parent / "user" / "bomb"
    bomb.parent.mkdir()
    folder.rename(bomb)
    (bomb / "scenario.json").write_text("[" * 100_000)
    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", str(bomb.parent))
    return bomb


def test_a_json_nesting_bomb_is_an_integration_error_naming_the_file(nesting_bomb) -> None:
    import gymnasium as gym

    import gym_mame

    with pytest.raises(IntegrationError, match=r"bomb/scenario.json: nested more than 64"):
        integration.load("bomb")
    gym_mame.register_envs()
    with pytest.raises(IntegrationError, match=r"scenario.json: nested more than 64"):
        gym.make("Mame/bomb-v0")  # before MAME starts: no RecursionError, gym_mame's own error


def test_list_shows_a_bad_folder_in_one_line_and_lists_the_rest(nesting_bomb, capsys) -> None:
    from gym_mame.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    [bad] = [line for line in out.splitlines() if "Mame/bomb-v0" in line]
    assert "invalid" in bad and "scenario.json: nested more than 64 levels deep" in bad
    assert "Mame/a2600-pong-v0" in out and "Mame/pong-v0" in out


@pytest.mark.parametrize("text, message", [
    ('{"a": ' * 65 + "1" + "}" * 65, "nested more than 64 levels deep"),
    ('{"info": {"x": {"address": ' + "9" * 5000 + "}}}", "a number of more than 4300 digits"),
    (" " * (9 << 20), "more than a JSON file here may hold"),
])
def test_json_files_are_bounded_in_depth_and_size(tmp_path: Path, text, message) -> None:
    from gym_mame.integration.jsonfile import load_json

    path = tmp_path / "data.json"
    path.write_text(text)
    with pytest.raises(IntegrationError, match=f"data.json: .*{message}"):
        load_json(path)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    from gym_mame.integration.jsonfile import load_json

    path = tmp_path / "x.json"
    path.write_text(json.dumps({"notes": "[" * 1000 + '\\"]', "a": [[1]]}))
    assert load_json(path)["a"] == [[1]]


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    from gym_mame.integration.jsonfile import load_json

    os.mkfifo(tmp_path / "metadata.json")
    with pytest.raises(IntegrationError, match="metadata.json: is not a regular file"):
        load_json(tmp_path / "metadata.json")

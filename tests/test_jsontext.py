"""Setting a few members of a JSON file and keeping the rest of its text (no MAME)."""

from __future__ import annotations

import json

import pytest

from gym_mame.integration.jsontext import set_members

pytestmark = pytest.mark.pure  # runs without MAME

HAND_WRITTEN = """{
  "title": "Freeway",
  "inputs": {
    "UP": {"port": ":joyport1:joy:JOY", "field": "P1 Up"}
  },
  "start": {"boot": [{"frames": 60}, {"frames": 8, "press": ["RESET"]}]},
  "states": {
    "later": {
      "from": "start",
      "boot": [{"frames": 120}]
    }
  },
  "crop": [8, 13, 160, 210]
}
"""


def test_new_members_follow_the_last_one_in_its_layout() -> None:
    text = set_members(HAND_WRITTEN, ["start"], {"state": "start.sta", "mame_version": "0.251"})
    assert text == HAND_WRITTEN.replace(
        '"press": ["RESET"]}]}', '"press": ["RESET"]}], "state": "start.sta", '
        '"mame_version": "0.251"}')
    text = set_members(HAND_WRITTEN, ["states", "later"], {"state": "later.sta"})
    assert text == HAND_WRITTEN.replace('"boot": [{"frames": 120}]\n',
                                        '"boot": [{"frames": 120}],\n      "state": "later.sta"\n')
    assert json.loads(text)["states"]["later"] == {"from": "start", "boot": [{"frames": 120}],
                                                   "state": "later.sta"}


def test_an_equal_value_keeps_its_text_and_a_changed_one_is_replaced_in_place() -> None:
    text = '{"start": {"state":"start.sta" ,  "mame_version": "0.250", "boot": []}}'
    assert set_members(text, ["start"], {"state": "start.sta"}) == text
    assert set_members(text, ["start"], {"mame_version": "0.251"}) == text.replace("0.250",
                                                                                   "0.251")


def test_an_empty_object_and_a_one_member_object_on_several_lines() -> None:
    assert set_members('{"start": {}}', ["start"], {"a": 1}) == '{"start": {"a": 1}}'
    text = '{\n    "start": {\n        "boot": []\n    }\n}'
    assert set_members(text, ["start"], {"a": 1}) == \
        '{\n    "start": {\n        "boot": [],\n        "a": 1\n    }\n}'


def test_a_path_that_is_not_an_object_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="states.nope"):
        set_members(HAND_WRITTEN, ["states", "nope"], {"a": 1})
    with pytest.raises(KeyError, match="crop"):
        set_members(HAND_WRITTEN, ["crop"], {"a": 1})

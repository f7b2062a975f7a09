"""gym-retro reward/done semantics, as pure logic."""

from pathlib import Path

import pytest

from gym_mame.errors import IntegrationError
from gym_mame.integration.jsonfile import Node
from gym_mame.integration.scenario import parse_scenario

pytestmark = pytest.mark.pure  # runs without MAME

VARS = {"score", "lives", "gameover", "x"}


def scenario(doc: dict):
    return parse_scenario(Node(doc, Path("scenario.json")), VARS)


def test_delta_reward_with_default_penalty_of_zero() -> None:
    s = scenario({"reward": {"variables": {"score": {"reward": 2.0}}}})
    assert s.reward({"score": 15}, {"score": 10}) == 10.0
    assert s.reward({"score": 5}, {"score": 10}) == 0.0  # penalty defaults to 0
    assert s.reward({"score": 5}, None) == 0.0  # no previous step: delta 0


def test_penalty_multiplies_negative_values() -> None:
    s = scenario({"reward": {"variables": {"lives": {"reward": 0, "penalty": 3.0}}}})
    assert s.reward({"lives": 2}, {"lives": 3}) == -3.0


def test_absolute_measurement_and_op() -> None:
    s = scenario({"reward": {"variables": {"x": {"measurement": "absolute", "op": "greater-than",
                                                  "reference": 100, "reward": 0.5}}}})
    assert s.reward({"x": 101}, {"x": 0}) == 0.5
    assert s.reward({"x": 100}, {"x": 0}) == 0.0


def test_time_reward_every_step() -> None:
    s = scenario({"reward": {"time": {"penalty": 0.01}}})
    assert s.reward({}, None) == pytest.approx(-0.01)


def test_done_any_and_all() -> None:
    any_ = scenario({"done": {"variables": {"lives": {"op": "zero"},
                                            "gameover": {"op": "equal", "reference": 1}}}})
    all_ = scenario({"done": {"condition": "all",
                              "variables": {"lives": {"op": "zero"},
                                            "gameover": {"op": "equal", "reference": 1}}}})
    assert any_.done({"lives": 0, "gameover": 0}, None)
    assert not all_.done({"lives": 0, "gameover": 0}, None)
    assert all_.done({"lives": 0, "gameover": 1}, None)
    assert not any_.done({"lives": 1, "gameover": 0}, None)


def test_done_without_op_fires_on_positive_value_and_nodes_nest() -> None:
    s = scenario({"done": {"condition": "all", "variables": {"gameover": {}},
                           "nodes": {"n": {"variables": {"lives": {"op": "less-than",
                                                                    "reference": 1}}}}}})
    assert s.done({"gameover": 1, "lives": 0}, None)
    assert not s.done({"gameover": 1, "lives": 2}, None)
    assert not s.done({"gameover": 0, "lives": 0}, None)


def test_delta_done() -> None:
    s = scenario({"done": {"variables": {"lives": {"measurement": "delta", "op": "negative"}}}})
    assert s.done({"lives": 2}, {"lives": 3})
    assert not s.done({"lives": 3}, {"lives": 3})


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"reward": {"variables": {"nope": {"reward": 1}}}}, "'nope'"),
        ({"reward": {"variables": {"score": {"op": "bigger"}}}}, "unknown op 'bigger'"),
        ({"reward": {"variables": {"score": {"measurement": "sum"}}}}, "unknown measurement"),
        ({"reward": {"variables": {"score": {"rewrd": 1}}}}, "reward.variables.score.rewrd"),
        ({"done": {"condition": "most"}}, "condition must be"),
        ({"reward": {"script": "x.lua:f"}}, "Lua scripts are not supported"),
        ({"rewards": []}, "per-player"),
        ({"reward": {"variables": {"score": {"reward": "1"}}}}, "expected a number"),
    ],
)
def test_errors_name_the_key(doc: dict, message: str) -> None:
    with pytest.raises(IntegrationError, match="scenario.json") as info:
        scenario(doc)
    assert message in str(info.value)

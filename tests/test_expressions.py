"""The scenario expression language (pure logic, no MAME)."""

import pytest

from gym_mame.expressions import compile_expression
from gym_mame.jsonfile import Node
from gym_mame.scenario import parse_scenario

KNOWN = {"a", "b", "lives"}


@pytest.mark.parametrize(
    ("text", "cur", "prev", "expected"),
    [
        ("a + b * 2", {"a": 1, "b": 3}, {}, 7),
        ("a - prev(a)", {"a": 7}, {"a": 4}, 3),
        ("(a & 0x70) >> 4", {"a": 0x35}, {}, 3),
        ("a // 8 if a != 0x80 else 0", {"a": 0x80}, {}, 0),
        ("a // 8 if a != 0x80 else 0", {"a": 0x48}, {}, 9),
        ("min(max(a - prev(a), 0), 1)", {"a": 10}, {"a": 3}, 1),
        ("min(max(a - prev(a), 0), 1)", {"a": 3}, {"a": 10}, 0),
        ("lives == 0 and b == 0x53", {"lives": 0, "b": 0x53}, {}, 1),
        ("lives == 0 and b == 0x53", {"lives": 1, "b": 0x53}, {}, 0),
        ("not a or b", {"a": 0, "b": 0}, {}, 1),
        ("0 < a <= 5", {"a": 5}, {}, 1),
        ("0 < a <= 5", {"a": 6}, {}, 0),
        ("a / b", {"a": 1, "b": 0}, {}, 0),  # division by zero gives 0, not an exception
        ("a % b", {"a": 1, "b": 0}, {}, 0),
        ("1 << a", {"a": 10**9}, {}, 1 << 64),  # shifts are capped
        ("abs(-a) + ~0 + True", {"a": 2}, {}, 2),
    ],
)
def test_evaluates(text, cur, prev, expected) -> None:
    assert compile_expression(text, KNOWN).evaluate(cur, prev) == expected


def test_names_lists_what_it_reads() -> None:
    assert compile_expression("a + prev(b)", KNOWN).names == {"a", "b"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty"),
        ("a +", "syntax error"),
        ("c + 1", "unknown variable 'c'"),
        ("prev(a + 1)", "prev() takes a variable name"),
        ("prev(a, b)", "exactly one"),
        ("open('x')", "unknown function 'open'"),
        ("a.real", "Attribute is not allowed"),
        ("[a, b]", "List is not allowed"),
        ("'text'", "only numbers"),
        ("a ** 99999", "BinOp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("a in b", "comparison In is not allowed"),
        ("min(a, key=b)", "can be called"),
        ("x" * 3000, "longer than"),
    ],
)
def test_rejects(text, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expression(text, KNOWN)


def test_prev_may_name_later_variables_but_plain_names_may_not() -> None:
    compile_expression("prev(lives)", {"a"}, {"a", "lives"})
    with pytest.raises(ValueError, match="unknown variable 'lives'"):
        compile_expression("lives", {"a"}, {"a", "lives"})


def _scenario(doc: dict, variables: set[str]):
    return parse_scenario(Node(doc, "scenario.json"), variables)


def test_derived_variables_latch_and_hold_with_prev() -> None:
    # Breakout's rule in ALE: terminal once the game has started (5 lives seen) and
    # lives reach 0; before the start a 0 must not end the episode.
    scenario = _scenario({
        "every_frame": True,
        "variables": {
            "started": {"expression": "prev(started) or lives_byte == 5", "initial": 0},
            "lives": "lives_byte",
        },
        "reward": {"expression": "score - prev(score)"},
        "done": {"expression": "started and lives_byte == 0"},
    }, {"score", "lives_byte"})
    assert scenario.every_frame
    prev = scenario.start({"score": 0, "lives_byte": 0})
    assert prev["started"] == 0
    values = scenario.derive({"score": 0, "lives_byte": 0}, prev)
    assert not scenario.done(values, prev)
    for lives, score, reward in [(5, 0, 0), (5, 4, 4), (1, 11, 7), (0, 11, 0)]:
        values, prev = scenario.derive({"score": score, "lives_byte": lives}, values), values
        assert scenario.reward(values, prev) == reward
    assert values["started"] == 1 and values["lives"] == 0
    assert scenario.done(values, prev)


def test_gym_retro_rules_and_expressions_add_up() -> None:
    scenario = _scenario({
        "reward": {"variables": {"score": {"reward": 2.0}}, "expression": "-1"},
        "done": {"variables": {"lives": {"op": "zero"}}, "expression": "score > 100"},
    }, {"score", "lives"})
    prev = scenario.start({"score": 0, "lives": 3})
    values = scenario.derive({"score": 5, "lives": 3}, prev)
    assert scenario.reward(values, prev) == 2.0 * 5 - 1
    assert not scenario.done(values, prev)
    assert scenario.done(scenario.derive({"score": 101, "lives": 3}, values), values)
    assert scenario.done(scenario.derive({"score": 5, "lives": 0}, values), values)

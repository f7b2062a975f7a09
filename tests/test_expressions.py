"""The scenario expression language (pure logic, no MAME)."""

import math

import pytest

from gym_mame import integration
from gym_mame.errors import IntegrationError
from gym_mame.integration.expressions import compile_expression
from gym_mame.integration.intervals import Interval
from gym_mame.integration.jsonfile import Node
from gym_mame.integration.scenario import parse_scenario

pytestmark = pytest.mark.pure  # runs without MAME

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


# -- size, constants and ranges ------------------------------------------------
def test_deep_nesting_is_a_clear_error_not_a_recursion_error() -> None:
    with pytest.raises(ValueError, match="nests more than 50 levels deep"):
        compile_expression("-" * 1999 + "a", KNOWN)
    with pytest.raises(ValueError, match="nests more than 50 levels deep"):
        compile_expression("a" + " + a" * 400, KNOWN)  # a left-leaning chain is deep too


def test_many_terms_are_refused() -> None:
    wide = f"max({','.join('ab'[i % 2] for i in range(600))})"  # shallow but wide
    assert len(wide) < 2000
    with pytest.raises(ValueError, match="more than 500 terms"):
        compile_expression(wide, KNOWN)


@pytest.mark.parametrize("text", ["1e999", "99999999999999999999 * a", "-1e300 + a"])
def test_constants_beyond_2_63_are_refused(text) -> None:
    with pytest.raises(ValueError, match=r"constant .* is beyond ±2\*\*63"):
        compile_expression(text, KNOWN)


BYTE = Interval(0, 255)
RANGES = {"a": BYTE, "b": BYTE, "lives": Interval(0, 5)}


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("100 * a + (b & 0x0F)", 0, 25515),  # breakout-style score
        ("(a >> 4) * 10 + (a & 15)", 0, 165),  # BCD byte decoded by hand
        ("min(max(a - prev(a), 0), 1)", 0, 1),  # clamped reward
        ("100 if a == 0xC0 else (a >> 4) * 10", 0, 150),  # conditional: either branch
        ("7 if a >= 0 else 99999", 7, 7),  # a test that is always true
        ("lives == 0 and a == 0x53", 0, 1),
        ("a / b", 0, 255),  # dividing by 0 gives 0; other divisors are at least 1
        ("a // (b - 3)", -255, 255),
        ("a % b", 0, 254),
        ("-a % 7", 0, 6),
        ("~a", -256, -1),
        ("a | 1", 1, 255),
        ("a ^ b", 0, 255),
        ("1 << (a & 7)", 1, 128),
        ("abs(a - 300)", 45, 300),
        ("0 < a < 5", 0, 1),
        ("a < 0", 0, 0),
    ],
)
def test_ranges_of_representative_expressions(text, low, high) -> None:
    found = compile_expression(text, set(RANGES)).range(RANGES, RANGES)
    assert (found.low, found.high) == (low, high)


SOUNDNESS = [
    "a + b", "a - b", "a * b", "a / b", "a // b", "a % b", "a & b", "a | b", "a ^ b",
    "a << b", "a >> b", "-a", "+a", "~a", "not a", "a and b", "a or b", "a < b <= 3",
    "a == b", "a != b", "a if b else -b", "min(a, b, 2)", "max(a, -b)", "abs(a - b)",
    "(a / 2) // b", "(a / 2) % b", "(a / 3) << 2", "~(a / 2)", "(a / 2) & b", "b / (a / 2)",
    "(a & -3) | (b ^ -2)",
]


@pytest.mark.parametrize("text", SOUNDNESS)
def test_every_value_lies_in_its_range(text) -> None:
    """Exhaustively over small signed ranges: the range holds every result."""
    small = {"a": Interval(-6, 9), "b": Interval(-4, 5)}
    expression = compile_expression(text, {"a", "b"})
    found = expression.range(small, small)
    for a in range(-6, 10):
        for b in range(-4, 6):
            value = expression.evaluate({"a": a, "b": b}, {})
            assert found.low <= value <= found.high, (text, a, b, value, str(found))


def test_huge_products_of_bounded_inputs_are_refused_at_load() -> None:
    doc = {"variables": {"big": "score * 1000000000000000000 * 1000000000000000000"}}
    with pytest.raises(IntegrationError) as info:
        parse_scenario(Node(doc, "scenario.json"), {"score"}, {"score": BYTE})
    message = str(info.value)
    assert message.startswith("scenario.json: variables.big: ")
    assert "'score * 1000000000000000000' can reach" in message and "±2**63" in message
    with pytest.raises(IntegrationError, match="reward.expression: 'score << 64'"):
        parse_scenario(Node({"reward": {"expression": "score << 64"}}, "scenario.json"),
                       {"score"}, {"score": BYTE})


def _ranges(doc: dict, ranges: dict[str, Interval]) -> dict[str, tuple]:
    scenario = parse_scenario(Node(doc, "scenario.json"), set(ranges), ranges)
    return {n: (r.low, r.high) for n, r in scenario.derived_ranges(ranges).items()}


def test_prev_latches_holds_and_counters_reach_a_fixed_point() -> None:
    found = _ranges({"variables": {
        "started": {"expression": "prev(started) or lives == 5", "initial": 0},
        "my": "(a >> 4) * 10 + (a & 15)",
        "score": {"expression": "my - prev(my) if b else prev(score)", "initial": 0},
        "count": {"expression": "min(prev(count) + 1, 10)", "initial": 0},
        "seen": "prev(later) + 1",  # prev() of a variable defined below
        "later": "b & 3",
    }}, RANGES)
    assert found == {"started": (0, 1), "my": (0, 165), "score": (-165, 165),
                     "count": (1, 10), "seen": (1, 4), "later": (0, 3)}


def test_an_accumulator_is_unbounded_and_guarded_when_it_overflows() -> None:
    doc = {"variables": {
        "lost": {"expression": "prev(lost) - 1 if lives == 0 else prev(lost)", "initial": 4},
        "total": {"expression": "prev(total) * 1000 + a", "initial": 1},
    }}
    found = _ranges(doc, RANGES)
    assert found == {"lost": (-math.inf, 4), "total": (1000, math.inf)}
    scenario = parse_scenario(Node(doc, "scenario.json"), set(RANGES), RANGES)
    values = scenario.start({"a": 1, "b": 0, "lives": 1})
    for _ in range(4):  # guarded, the values are exactly those of the plain expression
        values = scenario.derive({"a": 1, "b": 0, "lives": 0}, values)
    assert values["lost"] == 0 and values["total"] == 1001001001001001
    with pytest.raises(IntegrationError,
                       match=r"scenario.json: variables.total.expression: "
                             r"'prev\(total\) \* 1000 \+ a' reached .*beyond ±2\*\*63.*"
                             r"min\(\) and max\(\)"):
        for _ in range(10):
            values = scenario.derive({"a": 1, "b": 0, "lives": 0}, values)


def test_unbounded_inputs_never_escape_as_a_bare_overflow_error() -> None:
    scenario = parse_scenario(Node({"reward": {"expression": "x * 1.0"}}, "scenario.json"),
                              {"x"})  # no ranges: x could be anything
    assert scenario.reward({"x": 3}, {"x": 0}) == 3.0
    with pytest.raises(IntegrationError, match=r"reward.expression: 'x \* 1.0' failed"):
        scenario.reward({"x": 10**400}, {"x": 0})


def test_every_bundled_integration_loads_with_bounded_ranges() -> None:
    for name in integration.find_folders():
        game = integration.load(name)
        ranges = {n: Interval(*v.bounds) for n, v in game.variables.items()}
        found = game.scenario.derived_ranges(ranges)
        # Q*bert's lives count down without a floor in its rules; the stall counters of
        # Double Dunk, Othello and Tennis are reset by their own penalty rules, which the
        # range analysis cannot see
        unbounded = {f"{name}.{n}" for n, r in found.items() if not r.bounded}
        assert unbounded <= {"a2600-qbert.lives", "a2600-double_dunk.stall_frames",
                             "a2600-othello.idle_frames", "a2600-tennis.serve_wait"}, unbounded

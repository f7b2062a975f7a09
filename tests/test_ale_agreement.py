"""Agreement with ALE: the statistics (pure) and a small subset of games for real (CI runs
this subset; `gym-mame agreement` runs them all, see docs/ale_agreement.md)."""

from __future__ import annotations

import pytest

from gym_mame.agreement import Row, Sample, agree, mean_se
from gym_mame.agreement.ale import Ale


@pytest.mark.pure
def test_agreement_rule() -> None:
    assert agree([1, 2, 3], [1, 2, 3])
    assert agree([5, 5, 5], [5, 5, 5])  # no spread: equal means agree
    assert not agree([5, 5, 5], [6, 6, 6])  # no spread: any difference disagrees
    assert agree([0, 10, 20], [5, 15, 25])  # within 3 combined standard errors
    assert not agree([0, 1, 2], [30, 31, 32])
    mean, se = mean_se([1, 3])
    assert mean == 2 and se == pytest.approx(1.0)


@pytest.mark.pure
def test_markdown_table_lists_every_game_and_problems() -> None:
    ok = Row("breakout", Sample([1, 2], [100, 120]), Sample([1, 2], [110, 100]))
    bad = Row("unknown", Sample(), Sample(), "gym_mame: unknown game")
    table = Ale().markdown([ok, bad], episodes=2, max_steps=100, seed=0)
    assert "| breakout | 1.5 ± 0.5 | 1.5 ± 0.5 |" in table
    assert "| unknown |" in table and "**no**: gym_mame: unknown game" in table
    assert table.endswith("Both figures agree in 1 of 2 games.")


@pytest.mark.parametrize(("game", "episodes"), [("breakout", 4), ("pong", 2), ("seaquest", 2)])
def test_subset_agrees_with_ale(game: str, episodes: int) -> None:
    pytest.importorskip("ale_py", reason="ale-py is in the test extra; run scripts/setup")
    row = Ale().compare(game, episodes=episodes, max_steps=1500, seed=100)
    assert not row.problem
    assert len(row.mame.returns) == episodes
    assert row.returns_agree, (row.reference.returns, row.mame.returns)
    assert row.lengths_agree, (row.reference.lengths, row.mame.lengths)

"""The one interface every reference implementation meets (ALE, PettingZoo's Atari envs,
stable-retro, nes-py), and the loop that compares games against any of them.

A :class:`Reference` knows which games it can compare (:meth:`~Reference.games`), how to
build its env and gym_mame's for one game (:meth:`~Reference.open`), how to play the plan of
:mod:`gym_mame.agreement.plan` on either (:meth:`~Reference.play`), what a comparison row
is (:meth:`~Reference.row`, a :class:`Comparison`), and how rows read on the console
(:meth:`~Reference.line`) and in the docs (:meth:`~Reference.markdown`, whose last line
sums the rows up). :meth:`~Reference.compare` plays one game on both sides from those
parts; :func:`run` compares several, reporting each row as it comes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from gym_mame.agreement.plan import NOOP_MAX, Progress, play
from gym_mame.agreement.stats import Row, Sample, mean_se_text


class Comparison(Protocol):
    """One game's comparison, as the reporter needs it."""

    game: str
    problem: str  # why the game could not be compared ("" when it was)

    @property
    def agrees(self) -> bool: ...


class Incomparable(Exception):
    """Raised by :meth:`Reference.open`: why this game cannot be compared (becomes the row's
    ``problem``)."""


@dataclass
class Pair:
    """One game's two envs, the reference's and gym_mame's, closed together."""

    reference: Any
    mame: Any

    @classmethod
    def beside(cls, mame: Any, reference: Callable[[], Any]) -> Pair:
        """gym_mame's env and the reference's, built by ``reference()`` (gym_mame's is
        closed when that fails)."""
        try:
            return cls(reference(), mame)
        except BaseException:
            mame.close()
            raise

    def close(self) -> None:
        try:
            self.reference.close()
        finally:
            self.mame.close()


class Reference(Protocol):
    """A reference implementation to compare gym_mame's games with.

    ``label`` names it in tables ("ALE"); ``kind`` and ``hint`` word the error on a game it
    does not know; ``parallel`` says whether games may be compared in separate processes.
    Options (frames a step, no-op range, ...) are the implementation's constructor's."""

    label: str
    kind: str
    hint: str
    parallel: bool = True
    noop_max: int = NOOP_MAX

    def games(self) -> list[str]:
        """The game names it compares, in the order of a full run."""
        ...

    def open(self, game: str) -> Pair:
        """Both envs of ``game``; raises :class:`Incomparable` when they cannot be compared
        (gym_mame cannot run it here, the action sets differ, ...)."""
        ...

    def play(self, env: Any, episodes: int, max_steps: int, seed: int,
             progress: Progress | None = None) -> Any:
        """The plan of actions on one env (either side): its sample."""
        ...

    def row(self, game: str, reference: Any = None, mame: Any = None,
            problem: str = "") -> Comparison:
        """The comparison of two samples (``None`` for both, with a ``problem``)."""
        ...

    def line(self, row: Any) -> str:
        """The row on the console."""
        ...

    def markdown(self, rows: Sequence[Any], episodes: int, max_steps: int, seed: int) -> str:
        """The table committed in the docs; its last line sums the rows up."""
        ...

    def compare(self, game: str, episodes: int = 10, max_steps: int = 2500, seed: int = 0,
                progress: Progress | None = None) -> Any:
        """Play ``game`` on both sides and compare; ``progress(1)`` after each of the
        ``2 * episodes`` episodes."""
        try:
            pair = self.open(game)
        except Incomparable as exc:
            return self.row(game, problem=str(exc))
        try:
            return self.row(game, self.play(pair.reference, episodes, max_steps, seed, progress),
                            self.play(pair.mame, episodes, max_steps, seed, progress))
        finally:
            pair.close()

    def close(self) -> None:
        """Let go of what the reference keeps between games (a process)."""

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SingleAgent(Reference):
    """A reference of single-agent Gymnasium envs: :func:`~gym_mame.agreement.plan.play`
    on both sides, :class:`~gym_mame.agreement.stats.Row` as the comparison."""

    def play(self, env: Any, episodes: int, max_steps: int, seed: int,
             progress: Progress | None = None) -> Sample:
        return play(env, episodes, max_steps, seed, self.noop_max, progress)

    def row(self, game: str, reference: Any = None, mame: Any = None,
            problem: str = "") -> Row:
        return Row(game, reference or Sample(), mame or Sample(), problem)

    def line(self, row: Row) -> str:
        if row.problem:
            return f"{row.game:<20} cannot compare: {row.problem}"
        label = self.label
        return (f"{row.game:<20} return {label} {mean_se_text(row.reference.returns):>16} "
                f"gym_mame {mean_se_text(row.mame.returns):>16} | length {label} "
                f"{mean_se_text(row.reference.lengths):>16} gym_mame "
                f"{mean_se_text(row.mame.lengths):>16} | agree: "
                f"{'yes' if row.agrees else 'NO'}")


def summary(rows: Sequence[Comparison], what: str = "Both figures agree") -> str:
    """The tables' last line: in how many games the comparison agrees."""
    return f"{what} in {sum(r.agrees for r in rows)} of {len(rows)} games."


def run(reference: Reference, games: Sequence[str], episodes: int, max_steps: int, seed: int,
        jobs: int = 1, report: Callable[[Any], None] = lambda row: None,
        progress: Progress | None = None) -> list[Any]:
    """Compare every game, ``jobs`` at a time (one when the reference is not ``parallel``);
    ``report`` sees each row as it finishes. ``progress(n)``: n more of the
    ``2 * episodes * len(games)`` episodes are done (each episode with one job; each game as
    it finishes with more, or when it could not be compared)."""
    rows: dict[str, Any] = {}
    if jobs <= 1 or not reference.parallel:
        for game in games:
            played = 0

            def count(n: int) -> None:
                nonlocal played
                played += n
                if progress is not None:
                    progress(n)

            rows[game] = reference.compare(game, episodes, max_steps, seed, count)
            if progress is not None and played < 2 * episodes:  # not played: a problem
                progress(2 * episodes - played)
            report(rows[game])
    else:
        with ProcessPoolExecutor(jobs) as pool:
            futures = {game: pool.submit(reference.compare, game, episodes, max_steps, seed)
                       for game in games}
            for game, future in futures.items():
                rows[game] = future.result()
                if progress is not None:
                    progress(2 * episodes)
                report(rows[game])
    return [rows[g] for g in games]

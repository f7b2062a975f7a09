"""Agreement with the Arcade Learning Environment (ALE), measured.

For each Atari 2600 integration whose cartridge comes from ale-py, the same
seeded random policy plays in ALE (``ale_py.env.AtariEnv``) and in gym_mame
under one protocol: frameskip 4, no sticky actions, ALE's minimal action set,
episodes cut at the same step cap, and each episode opened by a random number
(0 to ``noop_max``) of NOOP steps. Episode ``i`` draws its no-ops and actions
from ``numpy.random.default_rng(seed + i)`` in both, so the two see the same
action sequence for as long as their games stay in step.

The no-op starts matter: ALE is deterministic, so without them every episode
starts from one emulator state, and many games draw their enemies from a
frame counter; gym_mame's start is a few frames off ALE's (MAME's boot timing
and the frames a state load takes), so the two would compare two particular
starts rather than the games.

Per game it reports the mean and standard error of episode return and length
in each, and whether they agree: the difference of means is within
``TOLERANCE`` combined standard errors (equal means when neither varies). With
57 games and two figures each, 3 standard errors keeps false alarms to about one
run in three.

    gym-mame agreement                       # every a2600 integration
    gym-mame agreement breakout pong --episodes 5 --markdown table.md
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TOLERANCE = 3.0  # standard errors


@dataclass
class Sample:
    """Episode returns and lengths from one environment, and its speed."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    truncated: int = 0
    steps_per_s: float = 0.0

    @staticmethod
    def mean_se(values: Sequence[float]) -> tuple[float, float]:
        mean = statistics.fmean(values)
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        return mean, se


@dataclass
class Row:
    """One game's comparison."""

    game: str
    ale: Sample
    mame: Sample
    problem: str = ""  # set when the game could not be compared

    @staticmethod
    def agree(a: Sequence[float], b: Sequence[float]) -> bool:
        (ma, sa), (mb, sb) = Sample.mean_se(a), Sample.mean_se(b)
        spread = math.hypot(sa, sb)
        if spread == 0:
            return math.isclose(ma, mb)
        return abs(ma - mb) <= TOLERANCE * spread

    @property
    def returns_agree(self) -> bool:
        return not self.problem and self.agree(self.ale.returns, self.mame.returns)

    @property
    def lengths_agree(self) -> bool:
        return not self.problem and self.agree(self.ale.lengths, self.mame.lengths)

    @property
    def agrees(self) -> bool:
        """Both figures agree."""
        return self.returns_agree and self.lengths_agree

    @property
    def verdict(self) -> str:
        """The table's "agree" cell."""
        return {(True, True): "yes", (True, False): "return only",
                (False, True): "length only", (False, False): "**no**"}[
            (self.returns_agree, self.lengths_agree)]


def ale_games() -> list[str]:
    """gym_mame integrations that are one of ALE's games on an ale-py cartridge, by ALE
    game name: ALE's registry decides. Multi-player modes of a cartridge under a name of
    their own (PettingZoo's foozpong on pong.bin) have no ALE game to compare with, nor have
    cartridges that ale-py ships only for Multi-Agent ALE (warlords.bin): ALE aborts the
    process on those."""
    import ale_py
    import gymnasium as gym

    from gym_mame.integration import find_folders, load

    gym.register_envs(ale_py)
    ale_ids = {spec.split("/")[1].split("-")[0] for spec in gym.registry if spec.startswith("ALE/")}
    games = []
    for name in find_folders():
        if name.startswith("a2600-"):
            ale_name = name.removeprefix("a2600-")
            cart = load(name).cartridge
            registered = "".join(w.capitalize() for w in ale_name.split("_")) in ale_ids
            if registered and cart is not None and cart.package == "ale_py":
                games.append(ale_name)
    return games


def play(env: Any, episodes: int, max_steps: int, seed: int, noop_max: int = 30) -> Sample:
    """Run the seeded random policy for ``episodes`` episodes of at most ``max_steps``
    (no-op starts included)."""
    sample = Sample()
    n_actions = env.action_space.n
    steps, started = 0, time.perf_counter()
    for episode in range(episodes):
        rng = np.random.default_rng(seed + episode)
        env.reset(seed=seed + episode)
        total, length, terminated = 0.0, 0, False
        noops = int(rng.integers(noop_max + 1))
        while not terminated and length < max_steps:
            action = 0 if length < noops else int(rng.integers(n_actions))
            _, reward, terminated, _, _ = env.step(action)
            total += float(reward)
            length += 1
        sample.returns.append(total)
        sample.lengths.append(length)
        sample.truncated += not terminated
        steps += length
    sample.steps_per_s = steps / (time.perf_counter() - started)
    return sample


def compare(game: str, episodes: int = 10, max_steps: int = 2500, seed: int = 0,
            noop_max: int = 30) -> Row:
    """Play ``game`` (ALE's name, e.g. ``"breakout"``) in both and return the comparison."""
    from ale_py.env import AtariEnv

    from gym_mame.env import MameEnv
    from gym_mame.errors import GymMameError

    try:
        mame = MameEnv(f"a2600-{game}", frameskip=4, repeat_action_probability=0.0,
                       obs_type="ram")
    except GymMameError as exc:
        return Row(game, Sample(), Sample(), f"gym_mame: {exc}")
    ale = AtariEnv(game=game, obs_type="ram", frameskip=4, repeat_action_probability=0.0,
                   full_action_space=False)
    try:
        if ale.get_action_meanings() != mame.get_action_meanings():
            return Row(game, Sample(), Sample(),
                       f"action sets differ: ALE {ale.get_action_meanings()}, "
                       f"gym_mame {mame.get_action_meanings()}")
        return Row(game, play(ale, episodes, max_steps, seed, noop_max),
                   play(mame, episodes, max_steps, seed, noop_max))
    finally:
        ale.close()
        mame.close()


def mean_se_text(values: Sequence[float]) -> str:
    """``mean ± standard error`` as the table shows it."""
    if not values:
        return "-"
    mean, se = Sample.mean_se(values)
    return f"{mean:.1f} ± {se:.1f}"


def markdown(rows: Sequence[Row], episodes: int, max_steps: int, seed: int) -> str:
    """The table committed in the docs."""
    lines = [
        f"{episodes} episodes per game, seeded random policy (seeds {seed}..{seed + episodes - 1}),"
        f" frameskip 4, no sticky actions, 0-30 no-op steps first, at most {max_steps} steps"
        f" ({4 * max_steps} frames).",
        "Mean ± standard error. Agree: difference within "
        f"{TOLERANCE:g} combined standard errors.",
        "",
        "| game | ALE return | gym_mame return | ALE length | gym_mame length | agree | "
        "steps/s ALE | steps/s gym_mame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.problem:
            lines.append(f"| {r.game} | | | | | **no**: {r.problem[:120]} | | |")
            continue
        lines.append(
            f"| {r.game} | {mean_se_text(r.ale.returns)} | {mean_se_text(r.mame.returns)} | "
            f"{mean_se_text(r.ale.lengths)} | {mean_se_text(r.mame.lengths)} | {r.verdict} | "
            f"{r.ale.steps_per_s:.0f} | {r.mame.steps_per_s:.0f} |")
    both = sum(r.agrees for r in rows)
    lines += ["", f"Both figures agree in {both} of {len(rows)} games."]
    return "\n".join(lines)


def run(games: Sequence[str], episodes: int, max_steps: int, seed: int, jobs: int,
        report: Callable[[Row], None] = lambda row: None) -> list[Row]:
    """Compare every game, ``jobs`` at a time; ``report`` sees each row as it finishes."""
    rows: dict[str, Row] = {}
    if jobs <= 1:
        for game in games:
            rows[game] = compare(game, episodes, max_steps, seed)
            report(rows[game])
    else:
        with ProcessPoolExecutor(jobs) as pool:
            futures = {game: pool.submit(compare, game, episodes, max_steps, seed)
                       for game in games}
            for game, future in futures.items():
                rows[game] = future.result()
                report(rows[game])
    return [rows[g] for g in games]

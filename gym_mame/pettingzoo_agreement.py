"""Agreement with PettingZoo's Atari environments, measured as for ALE (see
:mod:`gym_mame.agreement`): the same seeded random policies play a game's
multi-player mode in PettingZoo (``pettingzoo.atari.<game>``, on Multi-Agent
ALE, frames skipped by SuperSuit's ``frame_skip_v0``) and in
:func:`gym_mame.parallel_env`, under one protocol: frameskip 4, no sticky
actions, 0-30 seeded no-op steps first (every player NOOP), at most
``max_steps`` steps. Episode ``i`` draws its no-ops and every agent's actions,
agent by agent in order, from ``numpy.random.default_rng(seed + i)``. Per agent,
the mean and standard error of its episode return, and of the episode's length
(until every agent is done), in both; they agree within ``TOLERANCE`` combined
standard errors.

    gym-mame agreement --pettingzoo boxing_v2 pong_v3 --episodes 10
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gym_mame.agreement import Row, mean_se_text


def games() -> dict[str, tuple[str, int]]:
    """PettingZoo's Atari env -> (gym_mame integration, players), from the integrations'
    ``multiplayer.<count>.pettingzoo``."""
    from gym_mame.integration import find_folders, load

    found = {}
    for name in find_folders():
        if name.startswith("a2600-"):
            for count, team in load(name).teams.items():
                if team.pettingzoo:
                    found[team.pettingzoo] = (name, count)
    return found


@dataclass
class MultiSample:
    """Per agent, episode returns; episode lengths; speed."""

    returns: dict[str, list[float]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    steps_per_s: float = 0.0


def play(env: Any, episodes: int, max_steps: int, seed: int, noop_max: int = 30) -> MultiSample:
    sample = MultiSample({a: [] for a in env.possible_agents})
    steps, started = 0, time.perf_counter()
    for episode in range(episodes):
        rng = np.random.default_rng(seed + episode)
        env.reset(seed=seed + episode)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        noops, length = int(rng.integers(noop_max + 1)), 0
        while env.agents and length < max_steps:
            actions = {}
            for agent in env.possible_agents:
                n = env.action_space(agent).n
                action = 0 if length < noops else int(rng.integers(n))
                if agent in env.agents:
                    actions[agent] = action
            _, rewards, _, _, _ = env.step(actions)
            for agent, reward in rewards.items():
                totals[agent] += float(reward)
            length += 1
        for agent in env.possible_agents:
            sample.returns[agent].append(totals[agent])
        sample.lengths.append(length)
        steps += length
    sample.steps_per_s = steps / (time.perf_counter() - started)
    return sample


@dataclass
class MultiRow:
    game: str
    reference: MultiSample
    mame: MultiSample
    problem: str = ""

    def returns_agree(self, agent: str) -> bool:
        return Row.agree(self.reference.returns[agent], self.mame.returns[agent])

    @property
    def lengths_agree(self) -> bool:
        return Row.agree(self.reference.lengths, self.mame.lengths)

    @property
    def agrees(self) -> bool:
        return not self.problem and self.lengths_agree and all(
            self.returns_agree(a) for a in self.reference.returns)


def pettingzoo_env(name: str) -> Any:
    """PettingZoo's env ``name`` (e.g. ``"boxing_v2"``), frames skipped 4 at a time."""
    import ale_py
    import supersuit

    module = importlib.import_module(f"pettingzoo.atari.{name}")
    roms = os.path.join(os.path.dirname(ale_py.__file__), "roms")
    return supersuit.frame_skip_v0(
        module.parallel_env(auto_rom_install_path=roms, obs_type="ram"), 4)


def compare(name: str, episodes: int = 10, max_steps: int = 2500, seed: int = 0) -> MultiRow:
    from gym_mame.errors import GymMameError
    from gym_mame.pettingzoo_env import parallel_env

    game, players = games()[name]
    try:
        mame = parallel_env(game, num_players=players, obs_type="ram", frameskip=4)
    except GymMameError as exc:
        return MultiRow(name, MultiSample(), MultiSample(), f"gym_mame: {exc}")
    reference = pettingzoo_env(name)
    try:
        sizes = [(reference.action_space(a).n, mame.action_space(a).n)
                 for a in mame.possible_agents]
        if any(r != m for r, m in sizes):
            return MultiRow(name, MultiSample(), MultiSample(),
                            f"action sets differ (PettingZoo, gym_mame): {sizes}")
        return MultiRow(name, play(reference, episodes, max_steps, seed),
                        play(mame, episodes, max_steps, seed))
    finally:
        reference.close()
        mame.close()


def markdown(rows: Sequence[MultiRow], episodes: int, max_steps: int, seed: int) -> str:
    lines = [
        f"{episodes} episodes per game, seeded random policies (seeds {seed}.."
        f"{seed + episodes - 1}), frameskip 4, no sticky actions, 0-30 no-op steps first, at "
        f"most {max_steps} steps. Mean ± standard error per agent; agree: every agent's return "
        "and the length within 3 combined standard errors.",
        "",
        "| game | agent | PettingZoo return | gym_mame return | PettingZoo length | "
        "gym_mame length | agree |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.problem:
            lines.append(f"| {r.game} | | | | | | **no**: {r.problem[:120]} |")
            continue
        for k, agent in enumerate(r.reference.returns):
            length = ((mean_se_text(r.reference.lengths), mean_se_text(r.mame.lengths))
                      if k == 0 else ("", ""))
            verdict = "yes" if r.returns_agree(agent) and r.lengths_agree else "**no**"
            lines.append(f"| {r.game if k == 0 else ''} | {agent} | "
                         f"{mean_se_text(r.reference.returns[agent])} | "
                         f"{mean_se_text(r.mame.returns[agent])} | {length[0]} | {length[1]} | "
                         f"{verdict} |")
    lines += ["", f"Every agent agrees in {sum(r.agrees for r in rows)} of {len(rows)} games."]
    return "\n".join(lines)


def run(names: Sequence[str], episodes: int, max_steps: int, seed: int,
        report: Callable[[MultiRow], None] = lambda row: None) -> list[MultiRow]:
    rows = []
    for name in names:
        rows.append(compare(name, episodes, max_steps, seed))
        report(rows[-1])
    return rows



"""Agreement with PettingZoo's Atari environments, measured as for ALE: the plan of
:mod:`gym_mame.agreement.plan` (every player NOOP during the no-ops, one draw per agent a
step) plays a game's multi-player mode in PettingZoo (``pettingzoo.atari.<game>``, on
Multi-Agent ALE, frames skipped by SuperSuit's ``frame_skip_v0``) and in
:func:`gym_mame.parallel_env`: frameskip 4, no sticky actions, at most ``max_steps`` steps.
Per agent, the mean and standard error of its episode return, and of the episode's length
(until every agent is done), in both; they agree within ``TOLERANCE`` combined standard
errors.

    gym-mame agreement --pettingzoo boxing_v2 pong_v3 --episodes 10
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Sequence
from typing import Any

from gym_mame.agreement.plan import NOOP_MAX, Progress, play_agents
from gym_mame.agreement.reference import Incomparable, Pair, Reference, summary
from gym_mame.agreement.stats import TOLERANCE, MultiRow, MultiSample, mean_se_text


def pettingzoo_env(name: str) -> Any:
    """PettingZoo's env ``name`` (e.g. ``"boxing_v2"``), frames skipped 4 at a time.

    ``name`` comes from an integration folder: only a module that installed PettingZoo's
    ``pettingzoo.atari`` lists as one of its envs is imported."""
    import ale_py
    import pettingzoo.atari
    import supersuit

    from gym_mame.errors import IntegrationError
    from gym_mame.integration import PETTINGZOO_NAME

    envs = {m.name for m in pkgutil.iter_modules(pettingzoo.atari.__path__)
            if PETTINGZOO_NAME.match(m.name)}
    if name not in envs:
        raise IntegrationError(f"{name!r} is not one of PettingZoo's Atari envs "
                               f"({', '.join(sorted(envs))})")
    module = importlib.import_module(f"pettingzoo.atari.{name}")
    roms = os.path.join(os.path.dirname(ale_py.__file__), "roms")
    return supersuit.frame_skip_v0(
        module.parallel_env(auto_rom_install_path=roms, obs_type="ram"), 4)


class PettingZoo(Reference):
    """PettingZoo's Atari envs against :func:`gym_mame.parallel_env`, on PettingZoo's names
    (``"boxing_v2"``)."""

    label = "PettingZoo"
    kind = "PettingZoo Atari env"
    hint = "Agreement --pettingzoo takes names such as boxing_v2"

    def __init__(self, noop_max: int = NOOP_MAX) -> None:
        self.noop_max = noop_max

    @staticmethod
    def players() -> dict[str, tuple[str, int]]:
        """PettingZoo's Atari env -> (gym_mame integration, players), from the
        integrations' ``multiplayer.<count>.pettingzoo``."""
        from gym_mame.integration import find_folders, load

        found = {}
        for name in find_folders():
            if name.startswith("a2600-"):
                for count, team in load(name).teams.items():
                    if team.pettingzoo:
                        found[team.pettingzoo] = (name, count)
        return found

    def games(self) -> list[str]:
        return sorted(self.players())

    def open(self, game: str) -> Pair:
        from gym_mame.envs.pettingzoo_env import parallel_env
        from gym_mame.errors import GymMameError

        integration, players = self.players()[game]
        try:
            mame = parallel_env(integration, num_players=players, obs_type="ram", frameskip=4)
        except GymMameError as exc:
            raise Incomparable(f"gym_mame: {exc}") from exc
        pair = Pair.beside(mame, lambda: pettingzoo_env(game))
        sizes = [(pair.reference.action_space(a).n, mame.action_space(a).n)
                 for a in mame.possible_agents]
        if any(r != m for r, m in sizes):
            pair.close()
            raise Incomparable(f"action sets differ (PettingZoo, gym_mame): {sizes}")
        return pair

    def play(self, env: Any, episodes: int, max_steps: int, seed: int,
             progress: Progress | None = None) -> MultiSample:
        return play_agents(env, episodes, max_steps, seed, self.noop_max, progress)

    def row(self, game: str, reference: Any = None, mame: Any = None,
            problem: str = "") -> MultiRow:
        return MultiRow(game, reference or MultiSample(), mame or MultiSample(), problem)

    def line(self, row: MultiRow) -> str:
        if row.problem:
            return f"{row.game:<24} cannot compare: {row.problem}"
        returns = "; ".join(f"{a} PettingZoo {mean_se_text(row.reference.returns[a])} "
                            f"gym_mame {mean_se_text(row.mame.returns[a])}"
                            for a in row.reference.returns)
        return (f"{row.game:<24} {returns} | length PettingZoo "
                f"{mean_se_text(row.reference.lengths)} gym_mame "
                f"{mean_se_text(row.mame.lengths)} | agree: {'yes' if row.agrees else 'NO'}")

    def markdown(self, rows: Sequence[MultiRow], episodes: int, max_steps: int,
                 seed: int) -> str:
        lines = [
            f"{episodes} episodes per game, seeded random policies (seeds {seed}.."
            f"{seed + episodes - 1}), frameskip 4, no sticky actions, 0-{self.noop_max} no-op "
            f"steps first, at most {max_steps} steps. Mean ± standard error per agent; agree: "
            f"every agent's return and the length within {TOLERANCE:g} combined standard "
            "errors.",
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
                             f"{mean_se_text(r.mame.returns[agent])} | {length[0]} | "
                             f"{length[1]} | {verdict} |")
        lines += ["", summary(rows, "Every agent agrees")]
        return "\n".join(lines)

"""Agreement with the Arcade Learning Environment (ALE), measured.

For each Atari 2600 integration whose cartridge comes from ale-py, the plan of
:mod:`gym_mame.agreement.plan` plays in ALE (``ale_py.env.AtariEnv``) and in gym_mame
under one protocol: frameskip 4, no sticky actions, ALE's minimal action set, episodes cut
at the same step cap, each opened by 0 to ``noop_max`` NOOP steps.

Per game it reports the mean and standard error of episode return and length in each, and
whether they agree (:mod:`gym_mame.agreement.stats`).

    gym-mame agreement                       # every a2600 integration
    gym-mame agreement breakout pong --episodes 5 --markdown table.md
"""

from __future__ import annotations

from collections.abc import Sequence

from gym_mame.agreement.plan import NOOP_MAX
from gym_mame.agreement.reference import Incomparable, Pair, SingleAgent, summary
from gym_mame.agreement.stats import TOLERANCE, Row, mean_se_text


class Ale(SingleAgent):
    """ALE's ``AtariEnv`` against MameEnv, on ALE's game names (``"breakout"``)."""

    label = "ALE"
    kind = "ALE game"
    hint = "Agreement takes ALE names such as breakout (the a2600-* games without the prefix)"

    def __init__(self, noop_max: int = NOOP_MAX) -> None:
        self.noop_max = noop_max

    def games(self) -> list[str]:
        """gym_mame integrations that are one of ALE's games on an ale-py cartridge, by ALE
        game name: ALE's registry decides. Multi-player modes of a cartridge under a name of
        their own (PettingZoo's foozpong on pong.bin) have no ALE game to compare with, nor
        have cartridges that ale-py ships only for Multi-Agent ALE (warlords.bin): ALE aborts
        the process on those."""
        import ale_py
        import gymnasium as gym

        from gym_mame.integration import find_folders, load

        gym.register_envs(ale_py)
        ale_ids = {spec.split("/")[1].split("-")[0] for spec in gym.registry
                   if spec.startswith("ALE/")}
        games = []
        for name in find_folders():
            if name.startswith("a2600-"):
                ale_name = name.removeprefix("a2600-")
                cart = load(name).cartridge
                registered = "".join(w.capitalize() for w in ale_name.split("_")) in ale_ids
                if registered and cart is not None and cart.package == "ale_py":
                    games.append(ale_name)
        return games

    def open(self, game: str) -> Pair:
        from ale_py.env import AtariEnv

        from gym_mame.envs.env import MameEnv
        from gym_mame.errors import GymMameError

        try:
            mame = MameEnv(f"a2600-{game}", frameskip=4, repeat_action_probability=0.0,
                           obs_type="ram")
        except GymMameError as exc:
            raise Incomparable(f"gym_mame: {exc}") from exc
        pair = Pair.beside(mame, lambda: AtariEnv(
            game=game, obs_type="ram", frameskip=4, repeat_action_probability=0.0,
            full_action_space=False))
        theirs, ours = pair.reference.get_action_meanings(), mame.get_action_meanings()
        if theirs != ours:
            pair.close()
            raise Incomparable(f"action sets differ: ALE {theirs}, gym_mame {ours}")
        return pair

    def markdown(self, rows: Sequence[Row], episodes: int, max_steps: int, seed: int) -> str:
        lines = [
            f"{episodes} episodes per game, seeded random policy (seeds {seed}.."
            f"{seed + episodes - 1}), frameskip 4, no sticky actions, 0-{self.noop_max} no-op "
            f"steps first, at most {max_steps} steps ({4 * max_steps} frames).",
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
                f"| {r.game} | {mean_se_text(r.reference.returns)} | "
                f"{mean_se_text(r.mame.returns)} | {mean_se_text(r.reference.lengths)} | "
                f"{mean_se_text(r.mame.lengths)} | {r.verdict} | "
                f"{r.reference.steps_per_s:.0f} | {r.mame.steps_per_s:.0f} |")
        lines += ["", summary(rows)]
        return "\n".join(lines)

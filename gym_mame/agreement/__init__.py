"""Agreement with reference implementations, measured: the same seeded random plan of
actions (:mod:`~gym_mame.agreement.plan`) plays a game in a reference and in gym_mame, and
the statistics of both (:mod:`~gym_mame.agreement.stats`) are compared.

Every reference meets one interface, :class:`~gym_mame.agreement.reference.Reference`:

- :class:`~gym_mame.agreement.ale.Ale`: the Arcade Learning Environment (Atari 2600);
- :class:`~gym_mame.agreement.pettingzoo.PettingZoo`: PettingZoo's multi-player Atari envs;
- :class:`~gym_mame.agreement.retro.StableRetro`: stable-retro (Genesis);
- :class:`~gym_mame.agreement.nes.NesPy`: nes-py, frame by frame and by statistics.

``gym-mame agreement`` reports any of them the same way
(:func:`~gym_mame.agreement.reference.run`).
"""

from gym_mame.agreement.plan import play, play_agents
from gym_mame.agreement.reference import Comparison, Incomparable, Pair, Reference, run
from gym_mame.agreement.stats import (
    TOLERANCE,
    MultiRow,
    MultiSample,
    Row,
    Sample,
    agree,
    mean_se,
    mean_se_text,
)

__all__ = ["TOLERANCE", "Comparison", "Incomparable", "MultiRow", "MultiSample", "Pair",
           "Reference", "Row", "Sample", "agree", "mean_se", "mean_se_text", "play",
           "play_agents", "run"]

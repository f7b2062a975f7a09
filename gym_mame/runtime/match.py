"""The players of a game: their actions, their sticky actions, and their rules.

One or more players act on one machine. Each has an action space (the game's
action set, or its own), whose buttons are mapped to that player's own inputs
(player 2's joystick, say); with sticky actions each keeps its previous action
for its own random number of leading frames (ALE v5's semantics, drawn per
player in player order). After each evaluation (each step, or each frame with
``every_frame``) the game's rules give every player's reward and whether it is
out; the game's ``done`` (the game is over) ends the episode for everyone.

The play core (:class:`gym_mame.runtime.play.Play`) plays a game through one of these,
under :class:`gym_mame.MameEnv` (one agent, the others NOOP or given policies) and
:func:`gym_mame.parallel_env` (every player an agent) alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gym_mame import integration as integrations
from gym_mame.errors import IntegrationError
from gym_mame.integration import Integration, Start
from gym_mame.integration.scenario import Scenario
from gym_mame.runtime import starts
from gym_mame.runtime.actions import ActionMapper
from gym_mame.runtime.emulator import Emulator, Segment

AGENT_NAMES = ("first_0", "second_0", "third_0", "fourth_0")  # as PettingZoo's Atari names them


@dataclass
class Outcome:
    """What one step did: the values after it, each player's reward and whether it is out,
    whether the game is over, and which frame's reads the observation should show."""

    values: dict[str, float]
    rewards: list[float]
    out: list[bool]
    over: bool
    frame: int  # index into the step's frames: the last, or the first terminal one


class Match:
    """``num_players`` players of ``game``, with ``action_type`` action spaces; the
    discrete actions are ``game``'s action set ``action_set`` (None: its default actions)
    unless a player has a set of its own."""

    def __init__(self, game: Integration, num_players: int = 1, action_type: str = "discrete",
                 full_action_space: bool = False, action_set: str | None = None) -> None:
        if num_players == 1:
            self.rules: list[Scenario] = [game.scenario]
            self.maps: list[Mapping[str, str]] = [{}]
            own: list[Any] = [None]
            self.lives: list[str | None] = ["lives" if "lives" in _names(game) else None]
            self.team_boot = None
        elif num_players in game.teams:
            team = game.teams[num_players]
            self.rules = [r.scenario for r in team.rules]
            self.maps = [p.buttons for p in team.players]
            own = [p.actions for p in team.players]
            self.lives = [r.lives for r in team.rules]
            self.team_boot = team.boot  # its own game mode, or None: the game's starts
        else:
            counts = ", ".join(str(n) for n in (1, *sorted(game.teams)))
            raise IntegrationError(f"{game.name} is played by {counts} player(s), not "
                                   f"{num_players}")
        if action_type == "continuous" and num_players > 1:
            raise ValueError("action_type='continuous' is for one player so far (a second "
                             "player's dial is its own input, which continuous actions do "
                             "not map yet); use 'discrete' or 'multi_binary' for "
                             f"{num_players} players")
        self.game = game
        self.num_players = num_players
        self.scenario = game.scenario  # derived variables, and the game's end
        chosen = integrations.action_set(game, action_set)  # a player's own set comes first
        self.mappers = [ActionMapper(game, action_type, full_action_space, actions or chosen)
                        for actions in own]

    def held(self, player: int, action: Any) -> tuple[Any, ...]:
        """The inputs player ``player`` holds for ``action`` (ValueError outside its space);
        a continuous action's turns, ``(input, speed)``, pass as they are."""
        mapping = self.maps[player]
        return tuple(b if isinstance(b, tuple) else mapping.get(b, b)
                     for b in self.mappers[player].held(action))

    def segments(self, emulator: Emulator, previous: list[tuple[str, ...]],
                 new: list[tuple[str, ...]], frameskip: int, repeat_probability: float,
                 rng: np.random.Generator) -> tuple[list[Segment], list[tuple[str, ...]]]:
        """The frames of one step, and what each player holds afterwards. With sticky
        actions a player whose action changed keeps its previous one for a random number
        of leading frames (if for all of them, it has not changed)."""
        sticky = []
        for old, now in zip(previous, new, strict=True):
            s = 0
            if repeat_probability > 0 and now != old:
                while s < frameskip and rng.random() < repeat_probability:
                    s += 1
            sticky.append(s)
        cuts = sorted({0, frameskip, *sticky})
        segments = []
        for start, end in itertools.pairwise(cuts):
            held = tuple(b for old, now, s in zip(previous, new, sticky, strict=True)
                         for b in (old if start < s else now))
            segments.append(emulator.segment(held, end - start, first=start == 0))
        after = [now if s < frameskip else old
                 for old, now, s in zip(previous, new, sticky, strict=True)]
        return segments, after

    def evaluate(self, frames: Sequence[Mapping[str, int]],
                 previous: dict[str, float]) -> Outcome:
        """Every player's reward and state over one step's evaluations; like ALE, nothing
        counts after the frame the game ended (the step's later frames still ran)."""
        n = self.num_players
        rewards, out, over = [0.0] * n, [False] * n, False
        values, index = previous, len(frames) - 1
        for k, frame_values in enumerate(frames):
            values = self.scenario.derive(frame_values, previous)
            for i, rules in enumerate(self.rules):
                if not out[i]:
                    rewards[i] += rules.reward(values, previous)
                    out[i] = rules.done(values, previous)
            over = out[0] if n == 1 else self.scenario.done(values, previous)
            previous = values
            if over:
                index = k
                break
        out = [o or over for o in out]
        return Outcome(values, rewards, out, over, index)

    def start(self, values: Mapping[str, int]) -> dict[str, float]:
        return self.scenario.start(values)

    def player_lives(self, values: Mapping[str, float]) -> list[int | None]:
        return [int(values[name]) if name is not None else None for name in self.lives]

    def starts_for_play(self, state: str | Sequence[str] | None = None,
                        options: Mapping[str, Any] | None = None) -> tuple[Start, ...]:
        """Where these players start: from ``state`` (one named start state, several to
        pick from at random, or None: the default) with game ``options``; for a count with
        its own boot (its game mode), from that boot."""
        options = options or {}
        if self.team_boot is None:
            return tuple(starts.choose(self.game, state, options))
        if state is not None:
            raise ValueError(f"{self.game.name} for {self.num_players} players starts from "
                             "its own boot (the game mode for that many); state= names "
                             "one-player starts")
        return (starts.mode_start(self.game, self.num_players, self.team_boot, options),)


def _names(game: Integration) -> set[str]:
    return set(game.variables) | {d.name for d in game.scenario.derived}

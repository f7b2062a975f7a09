"""Action spaces: how an agent's action becomes the set of buttons held."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from gym_mame.integration import Action, Integration

ACTION_TYPES = ("discrete", "multi_discrete", "multi_binary", "filtered")


class ActionMapper:
    """Builds the action space for ``action_type`` and decodes actions into buttons.

    * ``"discrete"``: the integration's button combinations, NOOP first.
    * ``"multi_discrete"``: one choice per action group (e.g. move x attack);
      without groups, one on/off choice per button.
    * ``"multi_binary"``: one bit per button.
    * ``"filtered"``: one bit per button, as gym-retro's ``Actions.FILTERED``: within each
      action group, the pressed buttons are kept only if they are one of the group's
      combinations (UP with DOWN is not, so both are dropped); buttons of no group (START)
      are dropped. Without groups, the discrete actions are the one group.
    """

    def __init__(self, integration: Integration, action_type: str,
                 full_action_space: bool = False) -> None:
        if action_type not in ACTION_TYPES:
            raise ValueError(f"action_type must be one of {ACTION_TYPES}, not {action_type!r}")
        self.action_type = action_type
        self.buttons = integration.buttons
        self.actions = integration.actions
        if full_action_space:
            if integration.full_actions is None:
                raise ValueError(f"{integration.name} defines no full action set "
                                 "(\"full_actions\" in metadata.json); use the default "
                                 "full_action_space=False")
            if action_type != "discrete":
                raise ValueError("full_action_space=True needs action_type='discrete'")
            self.actions = integration.full_actions
        self.groups = integration.action_groups or tuple(
            (Action("NOOP", ()), Action(b, (b,))) for b in self.buttons
        )
        self.space: spaces.Space[Any]
        if action_type == "discrete":
            self.space = spaces.Discrete(len(self.actions))
        elif action_type == "multi_discrete":
            self.space = spaces.MultiDiscrete([len(g) for g in self.groups])
        else:
            self.space = spaces.MultiBinary(len(self.buttons))
        # filtered: each group's buttons and the combinations it allows
        self._filters = [(frozenset(b for a in g for b in a.buttons),
                          {frozenset(a.buttons) for a in g})
                         for g in (integration.action_groups or (self.actions,))]

    def meanings(self) -> list[str]:
        """Names of the discrete actions (ALE style, e.g. ``"NOOP"``, ``"UPFIRE"``)."""
        return [a.name for a in self.actions]

    def held(self, action: Any) -> tuple[str, ...]:
        """The buttons held for ``action``; raises ``ValueError`` outside the space."""
        if not self.space.contains(action if not isinstance(action, list) else np.array(action)):
            raise ValueError(
                f"action {action!r} is outside the action space {self.space}; "
                "sample from env.action_space or check your policy's output"
            )
        if self.action_type == "discrete":
            return self.actions[int(action)].buttons
        if self.action_type == "multi_discrete":
            return tuple(b for group, i in zip(self.groups, np.asarray(action), strict=True)
                         for b in group[int(i)].buttons)
        pressed = tuple(b for b, bit in zip(self.buttons, np.asarray(action), strict=True) if bit)
        if self.action_type == "filtered":
            kept: set[str] = set()
            for group_buttons, allowed in self._filters:
                chosen = frozenset(pressed) & group_buttons
                if chosen in allowed:
                    kept |= chosen
            pressed = tuple(b for b in pressed if b in kept)
        return pressed

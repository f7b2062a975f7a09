"""Action spaces: how an agent's action becomes the set of buttons held."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from gym_mame.integration import Action, Integration

ACTION_TYPES = ("discrete", "multi_discrete", "multi_binary", "filtered", "continuous")


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
    * ``"continuous"``: a ``Box``: first, for each analog input with a ``max_speed``
      (a dial's is its own by default), how many units it turns per frame, within
      ``±max_speed``; then, in ``[0, 1]``, one entry per other button (the
      ``multi_binary`` buttons less the nudges of those inputs), held when ``>= 0.5``.
    """

    def __init__(self, integration: Integration, action_type: str,
                 full_action_space: bool = False,
                 actions: tuple[Action, ...] | None = None) -> None:
        if action_type not in ACTION_TYPES:
            raise ValueError(f"action_type must be one of {ACTION_TYPES}, not {action_type!r}")
        self.action_type = action_type
        self.buttons = integration.buttons
        self.actions = integration.actions if actions is None else actions
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
        # filtered: each group's buttons and the combinations it allows
        self._filters = [(frozenset(b for a in g for b in a.buttons),
                          {frozenset(a.buttons) for a in g})
                         for g in (integration.action_groups or (self.actions,))]
        self.space: spaces.Space[Any]
        if action_type == "discrete":
            self.space = spaces.Discrete(len(self.actions))
        elif action_type == "multi_discrete":
            self.space = spaces.MultiDiscrete([len(g) for g in self.groups])
        elif action_type in ("multi_binary", "filtered"):
            self.space = spaces.MultiBinary(len(self.buttons))
        else:
            self.space = self._continuous(integration)

    def _continuous(self, integration: Integration) -> spaces.Box:
        self.steered = tuple(i for i in integration.inputs.values()
                             if i.analog and i.max_speed is not None)
        if not self.steered:
            raise ValueError(
                f"action_type='continuous' needs an analog input with a speed limit; "
                f"{integration.name} has none (a \"dial\" input, or an \"analog\" one "
                "with \"max_speed\" in metadata.json); use 'discrete' or 'multi_binary'")
        names = {i.name for i in self.steered}
        nudges = integration.nudges
        # the nudges of a steered input would turn it twice: the Box's speed replaces them
        self.buttons = tuple(b for b in self.buttons
                             if b not in nudges or nudges[b].target not in names)
        limits = [float(i.max_speed or 0) for i in self.steered]
        low = np.array([-x for x in limits] + [0.0] * len(self.buttons), dtype=np.float32)
        high = np.array(limits + [1.0] * len(self.buttons), dtype=np.float32)
        return spaces.Box(low, high, dtype=np.float32)

    def labels(self) -> list[str]:
        """What each entry of a ``continuous`` action is: the steered inputs, then buttons."""
        if self.action_type != "continuous":
            raise ValueError("labels() describes action_type='continuous' actions")
        return [i.name for i in self.steered] + list(self.buttons)

    def meanings(self) -> list[str]:
        """Names of the discrete actions (ALE style, e.g. ``"NOOP"``, ``"UPFIRE"``)."""
        if self.action_type == "continuous":
            return self.labels()  # what each entry of the Box turns or presses
        return [a.name for a in self.actions]

    def held(self, action: Any) -> tuple[Any, ...]:
        """The buttons held for ``action``; raises ``ValueError`` outside the space.
        A ``continuous`` action also gives ``(input, speed)`` for each steered input
        that turns."""
        if self.action_type == "continuous":
            return self._held_continuous(action)
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

    def _held_continuous(self, action: Any) -> tuple[Any, ...]:
        values = np.asarray(action, dtype=np.float64)
        box = self.space
        assert isinstance(box, spaces.Box)
        # a policy's float32 output may overshoot a bound by rounding: 1e-6 is forgiven
        if (values.shape != box.shape or not np.all(np.isfinite(values))
                or np.any(values < box.low - 1e-6) or np.any(values > box.high + 1e-6)):
            raise ValueError(
                f"action {action!r} is outside the action space {box} "
                f"({', '.join(self.labels())}); clip your policy's output to "
                "env.action_space.low/high")
        n = len(self.steered)
        turns = tuple((i.name, float(v)) for i, v in zip(self.steered, values[:n], strict=True)
                      if v != 0)
        return turns + tuple(b for b, v in zip(self.buttons, values[n:], strict=True)
                             if v >= 0.5)

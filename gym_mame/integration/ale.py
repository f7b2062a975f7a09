"""The ALE's action table, for metadata.json's ``"full_actions": "ale"``."""

from __future__ import annotations

# ALE's 18 joystick actions in ALE's order; ``"full_actions": "ale"`` in metadata.json.
ALE_ACTIONS: tuple[tuple[str, ...], ...] = (
    (), ("FIRE",), ("UP",), ("RIGHT",), ("LEFT",), ("DOWN",),
    ("UP", "RIGHT"), ("UP", "LEFT"), ("DOWN", "RIGHT"), ("DOWN", "LEFT"),
    ("UP", "FIRE"), ("RIGHT", "FIRE"), ("LEFT", "FIRE"), ("DOWN", "FIRE"),
    ("UP", "RIGHT", "FIRE"), ("UP", "LEFT", "FIRE"), ("DOWN", "RIGHT", "FIRE"),
    ("DOWN", "LEFT", "FIRE"),
)

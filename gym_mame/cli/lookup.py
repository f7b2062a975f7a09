"""Names given on the command line, checked before any work: an env id or game, an
integration, a MAME machine. A name that is none of these fails with the closest ones."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym

LIST_HINT = "`gym-mame list` shows them all"


def resolve_env(name: str) -> str:
    """The registered env id for an env id or a game name; else the closest names."""
    from gym_mame.integration import find_folders
    from gym_mame.integration.names import unknown

    env_id = name if "/" in name else f"Mame/{name}-v0"
    if env_id in gym.registry:
        return env_id
    games = list(find_folders())
    if "/" in name and not name.startswith("Mame/"):  # another namespace, e.g. ALE/
        raise unknown("env", name, [str(k) for k in gym.registry], LIST_HINT)
    raise unknown("env", name.removeprefix("Mame/").removesuffix("-v0"), games,
                  f"Give a game name (a2600-breakout) or an env id "
                  f"(Mame/a2600-breakout-v0); {LIST_HINT}")


def check_game(name: str) -> None:
    """Fail early, before any progress bar, on a game that is neither known nor a folder."""
    from pathlib import Path

    from gym_mame.integration import find_folders
    from gym_mame.integration.names import unknown

    if (Path(name) / "metadata.json").is_file() or name in find_folders():
        return
    raise unknown("game", name, find_folders(), f"Give a game name or an integration folder; "
                  f"{LIST_HINT}")


def check_machine(name: str, also: Sequence[str] = (), kind: str = "MAME machine") -> None:
    """Fail on a MAME machine name MAME does not know, naming the closest ones."""
    from gym_mame.integration.names import unknown
    from gym_mame.tools.machines import list_all
    from gym_mame.wire.bridge import find_mame

    machines = [n for n, _ in list_all(find_mame())]
    if name not in machines:
        raise unknown(kind, name, [*also, *machines],
                      "`gym-mame machines TERM` searches MAME's machines")

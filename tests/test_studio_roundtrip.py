"""The studio's writer and the loader agree: a folder written from a studio Session loads
and plays, for every TTL machine the project ships and a cartridge of each system.

The Session is driven in Python as the page drives it (play some frames holding a button,
save the start, write the folder with an action set of its own); the written folder is then
made into an env through ``$GYM_MAME_INTEGRATIONS``, as a user would, and played, with every
player count the game has.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import gym_mame
from gym_mame import integration as integrations
from gym_mame.envs.registration import register_envs
from gym_mame.studio.session import Session
from gym_mame.studio.writer import write_integration


def _ttl_machines() -> list[str]:
    """The bundled games without a ROM or a cartridge: MAME emulates their circuit."""
    games = [integrations.load(name) for name, folder in integrations.find_folders().items()
             if folder.parent == integrations.integrations_dir()]
    return sorted(g.name for g in games if g.cartridge is None and g.rom_set is None)


TTL_MACHINES = _ttl_machines()


def _cartridge_games() -> list[str]:
    games = []
    if _importable("ale_py"):
        games.append("a2600-boxing")  # two players
    if _importable("stable_retro"):
        games.append("genesis-airstriker")
    return games


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.pure
def test_the_project_ships_its_ttl_machines() -> None:
    assert {"pong", "pongd", "rebound"} <= set(TTL_MACHINES)


@pytest.mark.parametrize("game", TTL_MACHINES + _cartridge_games())
def test_a_folder_written_by_the_studio_loads_and_plays(game: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = integrations.load(game)
    name = f"{game}-studio"
    session = Session(game)
    try:
        actions = session.default_actions()
        button = next(b for combo in actions for b in
                      (combo.get("buttons", []) if isinstance(combo, dict) else combo))
        session.set_held([button])
        session.step_frames(20)
        session.set_held([])
        session.save_slot("start")
        # any action set: NOOP and the one button held above
        folder = write_integration(session, tmp_path / name, "start", [[], [button]])
    finally:
        session.close()
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["actions"] == [[], [button]]
    assert metadata["start"]["state"] == "start.sta"
    written = integrations.load(folder)
    assert written.machine == source.machine and written.players == source.players
    assert set(written.teams) == set(source.teams)
    assert written.default_state == "start"  # episodes begin at the start saved above

    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", str(tmp_path))
    register_envs()
    env = gym.make(f"Mame/{name}-v0")
    try:
        env.reset(seed=0)
        for _ in range(5):
            obs, reward, _, truncated, _ = env.step(1)
            assert not truncated and np.isfinite(reward)
        assert obs.shape == env.observation_space.shape
    finally:
        env.close()
    for players in sorted(source.teams):  # every player an agent
        game_env = gym_mame.parallel_env(name, players)
        try:
            game_env.reset(seed=0)
            for _ in range(5):
                _, rewards, _, truncations, _ = game_env.step(
                    {agent: 1 for agent in game_env.agents})
                assert len(rewards) == players and not any(truncations.values())
        finally:
            game_env.close()

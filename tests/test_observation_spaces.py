"""Every shipped game's dict observations stay inside its observation space (real MAME)."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from gym_mame.envs.env import MameEnv
from gym_mame.errors import RomNotFoundError
from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge, rom_paths, rom_set_present
from gym_mame.wire.resources import integrations_dir

INTEGRATIONS = integrations_dir()
GAMES = sorted(folder.parent.name for folder in INTEGRATIONS.glob("*/metadata.json"))
STEPS = 150  # x frameskip 4: about 2 s a game, so all 58 in about two minutes


def _missing(name: str) -> str | None:
    """Why ``name`` cannot run here (None: it can)."""
    game = load(INTEGRATIONS / name)
    if game.cartridge is not None:
        try:
            find_cartridge(game.cartridge, rom_paths())
        except RomNotFoundError as exc:
            return str(exc)
    elif game.rom_set is not None and not rom_set_present(game.rom_set, rom_paths()):
        return f"the MAME ROM set {game.rom_set!r} is not here (gym_mame ships no ROMs)"
    return None


def _outside(space: spaces.Dict, obs: dict[str, np.ndarray]) -> list[str]:
    problems = [f"{key}={obs[key][0]} outside [{member.low[0]}, {member.high[0]}]"
                for key, member in space.spaces.items()
                if key != "frame" and not member.contains(obs[key])]
    if set(obs) != set(space.spaces):
        problems.append(f"keys {sorted(obs)} are not the space's {sorted(space.spaces)}")
    return problems


@pytest.mark.parametrize("name", GAMES)
def test_random_play_stays_inside_the_dict_space(name: str) -> None:
    reason = _missing(name)
    if reason is not None:
        pytest.skip(reason)
    env = MameEnv(str(INTEGRATIONS / name), obs_type="dict", frameskip=4)
    try:
        space = env.observation_space
        assert isinstance(space, spaces.Dict)
        env.action_space.seed(0)
        obs, _ = env.reset(seed=0)
        outside = _outside(space, obs)
        for step in range(STEPS):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            outside += [f"step {step}: {p}" for p in _outside(space, obs)]
            if terminated or truncated:
                obs, _ = env.reset()
        assert not outside, f"{name}: {outside[:5]}"
        assert space.contains(obs)
    finally:
        env.close()


def test_pong_dict_space_passes_check_env_with_bounds_that_hold() -> None:
    env = MameEnv("pong", obs_type="dict")
    try:
        check_env(env)
        space = env.observation_space
        # MAME says the counters are 32-bit save items; data.json narrows them to 4 bits.
        assert (space["ball_counter"].low[0], space["ball_counter"].high[0]) == (0, 255)
        assert (space["game_over"].low[0], space["game_over"].high[0]) == (0, 1)
        sizes = {(i["name"], i["size"]) for i in env.description["save_items"]}
        assert sizes == {(f"0/ic_{ic}.m_cnt", 4) for ic in ("a3", "b3", "g7", "h7")}
    finally:
        env.close()

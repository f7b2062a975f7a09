"""Airstriker on MAME's genesis driver against stable-retro: the integration, a real-MAME
episode, `gym-mame import-retro` on stable-retro's folder, and a small agreement subset
(`gym-mame agreement --retro` runs the full one, see docs/retro_agreement.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gym_mame.errors import IntegrationError, RomNotFoundError
from gym_mame.integration import Cartridge, load
from gym_mame.runtime.actions import ActionMapper

GAME = "genesis-airstriker"
BUTTONS = ("B", "A", "MODE", "START", "UP", "DOWN", "LEFT", "RIGHT", "C", "Y", "X", "Z")


def retro_folder() -> Path:
    """stable-retro's Airstriker folder (it ships the ROM), or skip."""
    retro = pytest.importorskip("stable_retro", reason="stable-retro is in the test extra; "
                                "pip install -e '.[test]'")
    return Path(retro.__file__).parent / "data" / "stable" / "Airstriker-Genesis-v0"


# -- the integration (pure) ------------------------------------------------------------
@pytest.mark.pure
def test_integration_has_retros_buttons_actions_and_variables() -> None:
    game = load(GAME)
    assert game.machine == "genesis" and game.slots == {"ctrl1": "md6button"}
    assert game.buttons == BUTTONS
    assert len(game.actions) == 3 * 3 * 14  # gym-retro's Discrete(126)
    # gym-retro's Discrete order: the first group (UP/DOWN) varies fastest
    assert [a.buttons for a in game.actions[:5]] == [(), ("UP",), ("DOWN",), ("LEFT",),
                                                     ("UP", "LEFT")]
    assert game.actions[9].buttons == ("B",)
    assert {n: (v.addresses[0], v.type.text) for n, v in game.variables.items()} == {
        "score": (0xFF024E, ">u4"), "lives": (0xFF025A, ">u2"), "gameover": (0xFF0266, ">u2")}
    assert game.default_state == "Level1"
    assert game.cartridge is not None and game.cartridge.sha1 and game.cartridge.md5 is None
    assert len(game.patches) == 4 and all(p.original == b"\x30\x80" for p in game.patches)


@pytest.mark.pure
def test_filtered_actions_keep_only_valid_group_combinations() -> None:
    mapper = ActionMapper(load(GAME), "filtered")
    bits = dict.fromkeys(BUTTONS, 0)

    def held(*pressed: str) -> set[str]:
        return set(mapper.held(np.array([int(b in pressed) for b in bits], dtype=np.int8)))

    assert held("UP", "DOWN", "A", "B") == {"A", "B"}  # UP+DOWN is no combination: dropped
    assert held("LEFT", "A", "C") == {"LEFT"}  # A+C is not one of gym-retro's
    assert held("START", "MODE", "RIGHT") == {"RIGHT"}  # in no group: dropped
    assert held("Y", "Z", "DOWN") == {"Y", "Z", "DOWN"}
    all_bits = ActionMapper(load(GAME), "multi_binary")
    assert set(all_bits.held(np.ones(12, dtype=np.int8))) == set(BUTTONS)  # retro's ALL


def test_discrete_order_and_patches_are_checked(integration_copy) -> None:
    folder = integration_copy(GAME)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["discrete_order"] = "backwards"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(IntegrationError, match="discrete_order: must be \"product\""):
        load(folder)
    meta["discrete_order"] = "product"
    meta["patches"][0]["bytes"] = "4E"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(IntegrationError, match="same length"):
        load(folder)


@pytest.mark.pure
def test_cartridge_by_sha1_in_a_package_folder(tmp_path: Path) -> None:
    from gym_mame.runtime.roms import find_cartridge

    (tmp_path / "rom.md").write_bytes(b"not the game")
    cart = Cartridge("cart", "rom.md", None, None, sha1="a8be7b0ca850119b167f9644e6a4a22e983d61a4")
    with pytest.raises(RomNotFoundError, match="not the expected dump .sha1 a8be7b"):
        find_cartridge(cart, [tmp_path])
    folder = retro_folder()
    packaged = Cartridge("cart", "rom.md", None, "stable_retro", sha1=cart.sha1,
                         package_dir="data/stable/Airstriker-Genesis-v0")
    assert find_cartridge(packaged, [tmp_path / "empty"]) == folder / "rom.md"


@pytest.mark.pure
def test_same_buttons_as_stable_retro_for_every_discrete_action() -> None:
    retro_folder()
    from gym_mame.agreement.retro import same_actions

    assert same_actions(GAME) == ""


# -- real MAME -------------------------------------------------------------------------
def test_episode_in_mame_starts_where_stable_retro_does() -> None:
    folder = retro_folder()
    import stable_retro as retro

    from gym_mame.envs.env import MameEnv

    ref = retro.make("Airstriker-Genesis-v0", state="Level1", render_mode=None,
                     use_restricted_actions=retro.Actions.DISCRETE, obs_type=retro.Observations.RAM)
    try:
        retro_ram, _ = ref.reset(seed=0)  # Level1 plus one frame, each word's bytes swapped
    finally:
        ref.close()
    assert (folder / "Level1.state").is_file()
    env = MameEnv(GAME, frameskip=4, obs_type="ram")
    try:
        ram, info = env.reset(seed=0)
        assert (info["lives"], info["score"], info["gameover"]) == (3, 0, 9)
        ours = np.asarray(ram).reshape(-1, 2)[:, ::-1].reshape(-1)
        game_area = slice(0, 0xF000)  # below the stack, whose leftovers differ
        differ = np.nonzero(ours[game_area] != np.asarray(retro_ram)[game_area])[0]
        assert len(differ) <= 4, [hex(0xFF0000 + i) for i in differ]
        rng = np.random.default_rng(1)
        scores, lives = [], []
        for _ in range(300):
            _, reward, terminated, _, info = env.step(int(rng.integers(126)))
            scores.append(info["score"])
            lives.append(info["lives"])
            assert reward >= 0
            if terminated:
                break
        assert max(scores) > 0 and max(scores) % 10 == 0  # shooting scores tens
        assert set(lives) <= {0, 1, 2, 3}
        assert scores == sorted(scores)
    finally:
        env.close()


def test_patches_are_applied_and_a_different_rom_is_refused(integration_copy) -> None:
    retro_folder()
    from gym_mame.runtime.emulator import Emulator

    emu = Emulator(GAME)
    try:  # the game's bytes now, as its 68000 sees them
        assert emu.read_memory(":maincpu", "program", 0xF98E, 4) == bytes.fromhex("20464E71")
        assert emu.read_memory(":mdslot:cart:rom", "region", 0xF9C6, 2) == b"\x4e\x71"
    finally:
        emu.close()
    folder = integration_copy(GAME)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["patches"][0]["original"] = "FFFF"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(IntegrationError, match="expects ffff but the ROM has 3080"):
        Emulator(folder).close()


def test_agreement_subset_against_stable_retro() -> None:
    retro_folder()
    from gym_mame.agreement.retro import StableRetro

    row = StableRetro().compare(GAME, episodes=3, max_steps=200, seed=10)
    assert not row.problem
    assert len(row.mame.returns) == 3
    assert row.returns_agree, (row.reference.returns, row.mame.returns)
    assert row.lengths_agree, (row.reference.lengths, row.mame.lengths)


# -- import-retro ----------------------------------------------------------------------
@pytest.mark.pure
def test_import_retro_on_airstriker_matches_the_hand_made_integration(tmp_path: Path,
                                                                     capsys) -> None:
    retro_folder()
    from gym_mame.cli import main

    out = tmp_path / GAME
    assert main(["import-retro", "Airstriker-Genesis-v0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Level1.state is a libretro save state, which MAME cannot load" in printed
    imported, ours = load(out), load(GAME)
    for key in ("machine", "slots", "inputs", "buttons", "actions", "action_groups", "ram",
                "variables", "scenario", "cartridge", "default_state"):
        assert getattr(imported, key) == getattr(ours, key), key
    assert not imported.verified
    assert "libretro state" in imported.states["Level1"].description
    assert main(["import-retro", "Airstriker-Genesis-v0", "--out", str(out)]) != 0
    assert "already exists and is not empty" in capsys.readouterr().err


@pytest.mark.pure
def test_import_retro_refuses_what_it_cannot_translate(tmp_path: Path) -> None:
    from gym_mame.tools.retro_import import import_retro

    gameboy = tmp_path / "Tetris-GameBoy"
    gameboy.mkdir()
    with pytest.raises(IntegrationError, match="GameBoy games cannot be imported yet"):
        import_retro(gameboy, tmp_path / "out")
    genesis = tmp_path / "Thing-Genesis"
    genesis.mkdir()
    (genesis / "data.json").write_text('{"info": {"x": {"address": 1234, "type": "|u1"}}}')
    (genesis / "scenario.json").write_text('{"done": {}}')
    (genesis / "rom.sha").write_text("a8be7b0ca850119b167f9644e6a4a22e983d61a4\n")
    with pytest.raises(IntegrationError, match="info.x: 0x4d2 is outside the work RAM"):
        import_retro(genesis, tmp_path / "out")
    (genesis / "data.json").write_text('{"info": {"x": {"address": 16711681, "type": "|u1"}}}')
    (genesis / "scenario.json").write_text('{"reward": {"script": "lua:reward"}}')
    with pytest.raises(IntegrationError, match="Lua scripts cannot be imported"):
        import_retro(genesis, tmp_path / "out")
    with pytest.raises(IntegrationError, match="neither a gym-retro integration folder"):
        import_retro(tmp_path / "nowhere", tmp_path / "out")
    shutil.rmtree(genesis)


@pytest.mark.pure
@pytest.mark.parametrize(("system", "retro_address", "mame_address", "machine"), [
    ("PCEngine", 0xF80010, 0x1F0010, "pce"), ("Nes", 0x75, 0x75, "nes"),
    ("Snes", 0x7E0100, 0x7E0100, "snes")])
def test_import_retro_translates_other_systems(tmp_path: Path, system: str, retro_address: int,
                                               mame_address: int, machine: str) -> None:
    from gym_mame.tools.retro_import import import_retro

    source = tmp_path / f"Game-{system}-v0"
    source.mkdir()
    (source / "data.json").write_text(json.dumps(
        {"info": {"lives": {"address": retro_address, "type": "|u1"}}}))
    (source / "scenario.json").write_text('{"done": {"variables": {"lives": {"op": "zero"}}}}')
    (source / "rom.sha").write_text("0" * 40 + "\n")
    (source / "metadata.json").write_text('{"default_state": "Start"}')
    result = import_retro(source, tmp_path / "out")
    game = load(result.folder)
    assert game.machine == machine and result.states == ["Start"]
    assert game.variables["lives"].addresses == (mame_address,)
    assert game.actions[0].buttons == () and len(game.actions) > 9
    assert all(i.port.startswith(":ctrl") for i in game.inputs.values())

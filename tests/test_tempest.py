"""Tempest (tempest1) and the dial input it needs: a spinner as a relative analog input.

The dial's logic is tested here without any ROM: the loader's checks, the action spaces,
and the bridge turning a dial on a real MAME (on TTL Pong's paddle field, the one
analog field of a machine that needs no ROM). The tempest1 integration's inputs are
checked against MAME's own tempest1 driver with placeholder ROM files (zero bytes of the
sizes MAME lists, made in a temporary folder; no game runs on them). The play test
needs the real tempest1 set in $GYM_MAME_ROMPATH and skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import gym_mame
from gym_mame import Emulator, integration
from gym_mame.errors import BridgeError, IntegrationError
from gym_mame.runtime.actions import ActionMapper
from gym_mame.runtime.roms import rom_set_present
from gym_mame.wire.bridge import find_mame


# -- the dial input: loading -------------------------------------------------------
@pytest.mark.pure
def test_tempest1_loads_a_dial_with_nudges_and_its_action_set() -> None:
    game = integration.load("tempest1")
    spinner = game.inputs["SPINNER"]
    assert spinner.analog and spinner.wrap and (spinner.low, spinner.high) == (0, 15)
    assert spinner.max_speed == 7 and spinner.dial_limit == 7
    assert {n: (v.target, v.speed) for n, v in game.nudges.items()} == {
        "LEFT": ("SPINNER", -3), "RIGHT": ("SPINNER", 3)}
    assert [a.name for a in game.actions] == [
        "NOOP", "FIRE", "ZAP", "LEFT", "LEFT_FIRE", "LEFT_ZAP", "RIGHT", "RIGHT_FIRE",
        "RIGHT_ZAP"]
    assert not game.verified and game.rom_set == "tempest1" and len(game.checks) >= 5
    assert {"score", "lives", "wave", "segment"} <= set(game.variables)
    assert game.variables["score"].decode(bytes([0x01, 0x23, 0x50])) == 12350  # BCD


def _with_inputs(integration_copy, inputs: dict) -> Path:
    folder = integration_copy("pong")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["inputs"].update(inputs)
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize(("inputs", "problem"), [
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle", "dial": {"min": 0, "max": 15}},
      "FAST": {"nudge": "SPIN", "speed": 8}},
     r"FAST\.speed: turns dial 'SPIN' by 8 a frame, but a dial of 16 positions can turn "
     r"at most 7"),
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle", "dial": {"min": 0, "max": 1}}},
     "a dial needs at least 3 positions"),
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle", "dial": {"min": 0, "max": 15},
               "analog": {"min": 0, "max": 15}}},
     "not both"),
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle",
               "dial": {"min": 0, "max": 15, "max_speed": 9}}},
     r"max_speed: must be a number of units per frame in \(0, 7\]"),
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle", "dial": {"min": 0, "max": 15,
                                                              "initial": 16}}},
     "initial 16 is outside"),
    ({"SPIN": {"port": ":PADDLE0", "field": "Paddle", "dial": {"min": 0, "max": 15,
                                                              "step": 2}}},
     "unknown key"),
])
def test_bad_dial_inputs_are_refused_naming_the_key(integration_copy, inputs, problem) -> None:
    folder = _with_inputs(integration_copy, inputs)
    with pytest.raises(IntegrationError, match=problem):
        integration.load(folder)


# -- the dial input: action spaces --------------------------------------------------
@pytest.mark.pure
def test_continuous_actions_give_the_dial_speed_and_the_other_buttons() -> None:
    mapper = ActionMapper(integration.load("tempest1"), "continuous")
    assert mapper.labels() == ["SPINNER", "FIRE", "ZAP"]  # LEFT/RIGHT are the Box's speed
    assert mapper.meanings() == mapper.labels()
    assert list(mapper.space.low) == [-7, 0, 0] and list(mapper.space.high) == [7, 1, 1]
    assert mapper.held(np.array([2.5, 0.7, 0.2], dtype=np.float32)) == (("SPINNER", 2.5), "FIRE")
    assert mapper.held([0.0, 0.0, 1.0]) == ("ZAP",)
    with pytest.raises(ValueError, match=r"outside the action space .*SPINNER, FIRE, ZAP"):
        mapper.held([7.5, 0, 0])
    with pytest.raises(ValueError, match="outside the action space"):
        mapper.held([float("nan"), 0, 0])
    assert ActionMapper(integration.load("tempest1"), "multi_discrete").space.nvec.tolist() \
        == [3, 3]


@pytest.mark.pure
def test_continuous_actions_need_a_steerable_input() -> None:
    with pytest.raises(ValueError, match=r"needs an analog input with a speed limit; pong has "
                                         r"none .*\"dial\" input.*\"max_speed\""):
        ActionMapper(integration.load("pong"), "continuous")


@pytest.mark.pure
def test_continuous_actions_are_for_one_player() -> None:
    with pytest.raises(ValueError, match="one player so far"):
        gym_mame.runtime.match.Match(integration.load("pong"), 2, "continuous")


# -- the dial input on a real MAME ----------------------------------------------------
def test_a_dial_turns_round_its_range_in_mame() -> None:
    """Pong's paddle field driven as a 256-position dial: nudges and continuous turns
    wrap past the ends (positions as the bridge inside MAME reports them)."""
    emu = Emulator("pong", inputs={
        "SPIN": {"port": ":PADDLE0", "field": "Paddle",
                 "dial": {"min": 0, "max": 255, "initial": 250}},
        "CW": {"nudge": "SPIN", "speed": 7}})
    try:
        emu.configure(["SPIN", "COIN"])
        emu.reset_positions()
        emu.step(["CW"], frames=2, pixels=False)
        assert emu.positions["SPIN"] == 8.0        # 250 + 14 - 256
        emu.step([("SPIN", -3.5)], frames=4, pixels=False)
        assert emu.positions["SPIN"] == 250.0      # 8 - 14 + 256
        emu.step([("SPIN", 1.75)], frames=2, pixels=False)
        assert emu.positions["SPIN"] == 253.5
        emu.set_analog("SPIN", 300)
        assert emu.positions["SPIN"] == 44.0
    finally:
        emu.close()


def steerable_pong(integration_copy):
    """A copy of TTL Pong whose paddle has a speed limit, so it can be steered by a Box."""
    folder = integration_copy("pong")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["inputs"]["PADDLE"]["analog"]["max_speed"] = 4
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


def test_continuous_env_turns_the_paddle_by_the_actions_speed(integration_copy) -> None:
    """MameEnv's continuous Box reaches MAME: the speed per frame times the frameskip."""
    folder = steerable_pong(integration_copy)
    env = gym_mame.MameEnv(str(folder), action_type="continuous", frameskip=4)
    try:
        assert env.action_space.shape == (1,)  # PADDLE's speed (it replaces UP and DOWN)
        env.reset(seed=0)
        before = env.unwrapped._emulator.positions["PADDLE"]
        env.step(np.array([-2.5], dtype=np.float32))
        assert env.unwrapped._emulator.positions["PADDLE"] == before - 10
        with pytest.raises(ValueError, match="outside the action space"):
            env.step(np.array([5.0], dtype=np.float32))
    finally:
        env.close()


def test_continuous_vector_env_takes_a_batch_of_boxes(integration_copy) -> None:
    folder = steerable_pong(integration_copy)
    envs = gym_mame.MameVectorEnv(str(folder), num_envs=2, action_type="continuous",
                                  frameskip=2)
    try:
        assert envs.action_space.shape == (2, 1)
        envs.reset(seed=0)
        envs.step(np.array([[3.0], [-1.5]], dtype=np.float32))
        moved = [e._emulator.positions["PADDLE"] for e in envs.envs]
        assert moved == [128 + 6, 128 - 3]
    finally:
        envs.close()


def test_a_dial_on_a_button_field_is_refused_by_mame() -> None:
    with pytest.raises(BridgeError, match=r"':IN0' field 'Coin 1' is a digital input"):
        Emulator("pong", inputs={"SPIN": {"port": ":IN0", "field": "Coin 1",
                                          "dial": {"min": 0, "max": 15}}})


def test_a_dial_on_a_missing_field_names_it() -> None:
    with pytest.raises(BridgeError, match="input port ':PADDLE0' has no field 'Dial'"):
        Emulator("pong", inputs={"SPIN": {"port": ":PADDLE0", "field": "Dial",
                                          "dial": {"min": 0, "max": 15}}})


# -- tempest1 against MAME's tempest1 driver, without the ROM ---------------------------
def _placeholder_set(folder: Path) -> Path:
    """Zero-filled files with the names and sizes MAME lists for tempest1: enough for
    MAME to build the machine (it warns of wrong checksums), so that its input ports
    and memory map can be checked. Nothing runs on them: the CPU sees zeros."""
    xml = subprocess.run([str(find_mame()), "-listxml", "tempest1"], capture_output=True,
                         text=True, check=True).stdout
    target = folder / "tempest1"
    target.mkdir(parents=True)
    for name, size in re.findall(r'<rom name="([^"]+)" [^>]*size="(\d+)"', xml):
        (target / name).write_bytes(bytes(int(size)))
    return folder


def test_tempest1_inputs_and_variables_exist_in_mames_driver(tmp_path) -> None:
    emu = Emulator("tempest1", rom_path=_placeholder_set(tmp_path))
    try:
        # CONFIGURE found every input field and read every variable (or it raises);
        # the machine's watchdog resets it after a few frames of zeros, so only 3 run
        ports = {p["tag"]: {f["name"]: f for f in p["fields"]}
                 for p in emu.description["ports"]}
        dial = ports[":KNOBP1"]["Dial"]
        assert dial["analog"] and (dial["min"], dial["max"]) == (0, 15)
        assert {"P1 Button 1", "P1 Button 2"} <= set(ports[":BUTTONSP1"])
        emu.positions["SPINNER"] = 14.0
        step = emu.step(["RIGHT", "FIRE"], frames=3, pixels=False)
        assert emu.positions["SPINNER"] == 7.0  # 14 + 9 - 16: the dial wrapped
        assert set(step.values) == set(emu.game.variables)
    finally:
        emu.close()


# -- tempest1 played, given the ROM -----------------------------------------------------
def _rom_folders() -> list[Path]:
    return [Path(p) for p in os.environ.get("GYM_MAME_ROMPATH", "").split(os.pathsep) if p]


needs_rom = pytest.mark.skipif(
    not rom_set_present("tempest1", _rom_folders()),
    reason="needs the tempest1 ROM set (tempest1.zip with its parent tempest.zip) in a "
           "folder of $GYM_MAME_ROMPATH; gym_mame ships no commercial ROMs")


@needs_rom
def test_tempest1_plays_from_its_start() -> None:
    env = gym.make("Mame/tempest1-v0", obs_type="dict")
    try:
        _, info = env.reset(seed=0)
        assert info["in_game"] == 1, f"the start is not in a game: {info}"
        assert info["gamestate"] in (0x04, 0x20), f"the start is not play: {info}"
        assert 1 <= info["lives"] <= 6 and info["level"] == 1 and info["score"] == 0
        assert 0 <= info["segment"] <= 15
        meanings = env.unwrapped.get_action_meanings()
        seen = {}
        for name in ("RIGHT", "LEFT"):
            start = info["segment"]
            for _ in range(30):
                _, _, done, _, info = env.step(meanings.index(name))
                assert not done
            seen[name] = info["segment"] != start
        assert all(seen.values()), f"the spinner did not move the player: {seen}"
        rng = np.random.default_rng(0)
        total, steps, done = 0.0, 0, False
        while not done and steps < 30_000:
            _, reward, done, truncated, info = env.step(int(rng.integers(len(meanings))))
            assert reward >= 0 and info["score"] % 50 == 0, info
            total += reward
            steps += 1
            done = done or truncated
        assert total > 0 and done and info["lives"] <= 1, (total, steps, info)
    finally:
        env.close()


def test_validate_lists_what_to_check_even_without_the_rom(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "gym_mame", "validate", "tempest1",
                          "--rom-path", str(tmp_path), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "RomNotFoundError" in out.stderr  # no ROM: exit 2
    checks = integration.load("tempest1").checks
    assert len(checks) >= 5
    for what, how in checks:
        assert f"  - {what}: {how}" in out.stdout

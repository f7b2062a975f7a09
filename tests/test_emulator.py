"""The Emulator, the runtime under every front end, as a scripting API on real MAME:
integrations and bare machines, named inputs and variables, split stepping, states."""

from __future__ import annotations

import os
import pickle
import signal

import numpy as np
import pytest
import zmq

from gym_mame import Emulator
from gym_mame.errors import MameCrashedError
from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge, rom_paths


def breakout_cart() -> str:
    return str(find_cartridge(load("a2600-breakout").cartridge, rom_paths()))


def test_an_integration_with_its_inputs_variables_and_start() -> None:
    with Emulator("a2600-breakout") as emu:
        step = emu.reset()
        assert step.values["lives_byte"] == 5
        assert step.rgb().shape == (223, 176, 3) and step.gray().shape == (223, 176)
        assert step.rgb(crop=emu.game.crop).shape == (210, 160, 3)
        before = emu.positions["PADDLE"]
        emu.step(["LEFT"], frames=10)  # a nudge: 5.6 units a frame, MAME gets it rounded
        assert emu.positions["PADDLE"] == pytest.approx(min(before + 56, 236))
        assert emu.refresh_rate == pytest.approx(59.92, abs=0.01)
        with pytest.raises(ValueError, match="not a button"):
            emu.step(["JUMP"])


def test_a_bare_machine_with_mametoolkit_style_addresses_and_actions() -> None:
    emu = Emulator(machine="a2600", cart=breakout_cart(),
                   inputs={"FIRE": (":joyport1:joy:JOY", "P1 Button 1"),
                           "RESET": (":SWB", "Reset Game")},
                   variables={"lives": {"address": "0xB9", "type": "|u1"},
                              "score": {"address": "0xCD", "type": "|d1"}})
    try:
        emu.reset()  # power-on: a bare machine starts where MAME does
        assert emu.step(frames=60).values["lives"] == 0  # the attract mode
        emu.step(["RESET"], frames=8)
        step = emu.step(frames=30)
        assert step.values["lives"] == 5 and step.values["score"] == 0  # a game began
    finally:
        emu.close()


def test_split_stepping_drives_two_emulators_from_one_thread() -> None:
    a, b = Emulator("a2600-breakout"), Emulator("a2600-breakout")
    try:
        a.reset(), b.reset()
        a.send_step([a.segment(["FIRE"], 30)])
        b.send_step([b.segment((), 30)])  # both run now
        sa, sb = a.receive_step(), b.receive_step()
        assert sa.frame == sb.frame and not np.array_equal(sa.bgra(), sb.bgra())
    finally:
        a.close(), b.close()


def test_a_poller_learns_readiness_and_liveness_from_the_emulator_alone() -> None:
    """What a caller driving many emulators needs, without reaching into the bridge."""
    emu = Emulator("a2600-breakout")
    try:
        emu.reset()
        assert emu.ram_size == 128 and len(emu.step().ram) == emu.ram_size
        assert emu.alive and not emu.reply_ready()  # nothing sent: nothing to take
        emu.send_step([emu.segment((), 600)])
        poller = zmq.Poller()
        poller.register(emu.poll_handle, zmq.POLLIN)
        assert dict(poller.poll(30_000)).get(emu.poll_handle) and emu.reply_ready()
        emu.check_alive()  # answered in time: no error
        assert emu.receive_step().frame > 0
        emu.send_step([emu.segment((), 1)])
        os.killpg(emu.bridge.proc.pid, signal.SIGKILL)
        emu.bridge.proc.wait()
        assert not emu.alive
        with pytest.raises(MameCrashedError, match="killed by SIGKILL"):
            emu.check_alive()
        with pytest.raises(ValueError, match="smaller frameskip"):
            emu.check_every_frame(10**9)
    finally:
        emu.close()
    assert not emu.alive


def test_clones_restore_exactly_and_travel_between_emulators() -> None:
    with Emulator("a2600-breakout") as emu, Emulator("a2600-breakout") as other:
        emu.reset()
        emu.step(["FIRE"], 40)
        state = emu.clone_state()
        first = [emu.step(["LEFT"], 4).ram.tobytes() for _ in range(10)]
        emu.restore_state(state)
        assert [emu.step(["LEFT"], 4).ram.tobytes() for _ in range(10)] == first
        other.reset()
        other.restore_state(pickle.loads(pickle.dumps(state)))  # as its bytes
        assert other.step(["LEFT"], 4).ram.tobytes() == first[0]


@pytest.mark.parametrize("game", ["a2600-asteroids", "genesis-airstriker", "nes-super_mario_bros"])
def test_precompiled_variable_unpacking_reads_what_each_type_decodes(game: str,
                                                                     monkeypatch) -> None:
    """Plain integers are unpacked by a precompiled struct; the others (BCD, scattered
    addresses) by their type. Played side by side with an emulator that decodes every
    variable by its type, each frame's values are the same."""
    import gym_mame.runtime.emulator as emulator_module
    from gym_mame.errors import RomNotFoundError

    try:
        fast = Emulator(game)
    except RomNotFoundError as exc:
        pytest.skip(f"{game}'s cartridge is not installed here: {exc}")
    monkeypatch.setattr(emulator_module, "_STRUCT_CODES", {})
    slow = Emulator(game)
    try:
        assert fast._plain_vars and not slow._plain_vars  # the two paths differ
        buttons = [[], *([name] for name in fast.game.buttons)]
        rng = np.random.default_rng(0)
        seen = set()
        fast.reset(), slow.reset()
        for _ in range(200):
            press = buttons[int(rng.integers(len(buttons)))]
            a = fast.step(press, 4, pixels=False, every_frame=True)
            b = slow.step(press, 4, pixels=False, every_frame=True)
            assert a.frames == b.frames
            assert [list(v) for v in a.frames] == [list(fast.variables)] * 4  # data.json order
            seen |= {tuple(sorted(v.items())) for v in a.frames}
        assert len(seen) > 1  # the values moved: more than one byte pattern was read
    finally:
        fast.close(), slow.close()

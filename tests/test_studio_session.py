"""The studio's Session driven directly, on real MAME, against the env it stands beside:
it starts where ``env.reset()`` does (the same RAM, values and picture; a boot with
``until`` waits as the env's does), scores steps with the env's rules, and reads
data.json variables with the loader's parser.

MAME's frame counter counts the frames its own process ran (a load does not set it back),
so two processes are compared by what they show and hold, not by that counter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gym_mame import MameEnv
from gym_mame import integration as integrations
from gym_mame.integration import Input, Integration, Nudge
from gym_mame.runtime import frames as framing
from gym_mame.studio import inputs as studio_inputs
from gym_mame.studio.session import Session, StudioError, _variable_spec

INTEGRATIONS = Path(__file__).resolve().parent.parent / "integrations"


def _picture(session: Session, env: MameEnv) -> np.ndarray:
    """The Session's last frame as the env's observation shows a frame."""
    assert session.pixels is not None
    width, height, raw = session.pixels
    game = env.unwrapped.game
    return framing.convert(framing.bgra_array(raw, height, width), game.crop, False,
                           game.obs_size)


def _same_start(session: Session, env: MameEnv) -> None:
    obs, info = env.reset(seed=0)
    values = {k: v for k, v in info.items() if k != "episode_frame_number"}
    assert session.values == values
    assert session.emulator.read_ram() == env.unwrapped.emulator.read_ram()
    assert np.array_equal(_picture(session, env), obs)
    assert session.last_reward == 0.0 and not session.done


@pytest.mark.parametrize("game", ["a2600-breakout", "pong"])
def test_the_session_starts_where_env_reset_does(game: str) -> None:
    session = Session(game)
    try:
        env = MameEnv(game, repeat_action_probability=0.0)
        try:
            _same_start(session, env)
        finally:
            env.close()
        boot = session.emulator.game.boot
        assert session.history is not None and len(session.history) == len(boot) + 1
        assert session.history[-1]["frames"] == 3  # the frames a load settles in
        assert [h["frames"] for h in session.history[:-1]] == [s.frames for s in boot]
        # the integration's own input types, its dial and analog ranges as loaded
        for name, spec in session.emulator.game.inputs.items():
            assert session.inputs[name] == spec == session.emulator.inputs[name]
        assert all(isinstance(i, Input | Nudge) for i in session.inputs.values())
    finally:
        session.close()


def test_the_session_scores_steps_as_the_env_does() -> None:
    """Breakout played the same way through both: FIRE to serve, then the paddle left
    and right; every step's reward, values and RAM agree."""
    session = Session("a2600-breakout")
    env = MameEnv("a2600-breakout", frameskip=4, repeat_action_probability=0.0)
    try:
        env.reset(seed=0)
        plan = [("FIRE", 1)] * 3 + [("LEFT", 3)] * 20 + [("RIGHT", 2)] * 40 + [("", 0)] * 200
        session_rewards, env_rewards = [], []
        for button, action in plan:
            session.set_held([button] if button else [])
            session.step_frames(4)
            _, reward, terminated, _, info = env.step(action)
            session_rewards.append(session.last_reward)
            env_rewards.append(reward)
            assert session.values == {k: v for k, v in info.items()
                                      if k != "episode_frame_number"}
            assert session.done == terminated
            assert session.emulator.read_ram() == env.unwrapped.emulator.read_ram()
        assert session_rewards == env_rewards
        assert session.episode_return == sum(env_rewards)
        assert session.values["lives"] < 5  # the ball got by: the rules saw play, not a still
    finally:
        session.close()
        env.close()


def test_a_boot_with_until_starts_the_session_where_the_env_starts(tmp_path: Path) -> None:
    """A boot step that waits for a lost life (``until``) ends where it holds, in the
    Session as in the env; the Session's history keeps the condition."""
    folder = tmp_path / "breakout-until"
    shutil.copytree(INTEGRATIONS / "a2600-breakout", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["start"]["boot"].append({"frames": 3000, "press": ["FIRE"], "until": "lives_byte == 4"})
    (folder / "metadata.json").write_text(json.dumps(meta))
    session = Session(str(folder))  # first: it plays the boot itself (no cached state yet)
    try:
        assert session.values["lives_byte"] == 4
        assert session.history is not None
        assert session.history[-2] == {"frames": 3000, "press": ["FIRE"],
                                       "until": "lives_byte == 4"}
        env = MameEnv(folder, repeat_action_probability=0.0)
        try:
            _same_start(session, env)
        finally:
            env.close()
        # later frames are not folded into the step that waits
        session.step_frames(2)
        assert session.history[-2]["frames"] == 3000 and session.history[-1]["frames"] == 5
    finally:
        session.close()


def test_variables_are_read_as_the_loader_reads_data_json() -> None:
    session = Session("a2600-breakout")
    try:
        # the loader's forms the studio's own reader lacked: shift, range, address lists
        session.add_variable("tens", {"address": "0xCD", "type": "|u1", "shift": 4,
                                      "range": [0, 9]})
        session.add_variable("pair", {"address": [0xCD, 0xCC], "type": "<u2"})
        session.add_variable("blank", {"address": "0xB9", "type": "", "mask": ""})
        assert session.variable_specs["tens"] == {"address": 0xCD, "type": "|u1", "shift": 4,
                                                  "range": [0, 9]}
        assert session.variable_specs["pair"] == {"address": [0xCD, 0xCC], "type": "<u2"}
        assert session.variable_specs["blank"] == {"address": 0xB9, "type": "|u1"}
        session.step_frames(1)
        ram = session.emulator.read_memory(":maincpu", "program", 0xCC, 2)
        assert session.values["tens"] == ram[1] >> 4
        assert session.values["pair"] == ram[1] | ram[0] << 8
        assert session.values["blank"] == session.values["lives_byte"]
        for spec, message in [({"address": "0x99999"}, "outside :maincpu program"),
                              ({"address": 0xCC, "type": "|u1", "shift": 99}, "shift"),
                              ({"address": 0xCC, "type": "|q1"}, "type"),
                              ({"state": ["NOPE"]}, "no state entry 'NOPE'"),
                              ("0xCC", "an object")]:
            with pytest.raises(StudioError, match=message):
                session.add_variable("bad", spec)  # type: ignore[arg-type]
        assert "bad" not in session.variables
    finally:
        session.close()


@pytest.mark.pure
def test_a_bare_machine_session_checks_its_media_once(tmp_path: Path) -> None:
    """The Emulator's checks of the cartridge file and the slot options are the ones
    the studio gives (the page shows their messages)."""
    with pytest.raises(Exception, match="does not exist"):
        Session("a2600", cart=str(tmp_path / "none.bin"))
    with pytest.raises(ValueError, match="joyport1=pad"):
        Session("a2600", slots={"joyport1": "-listxml"})


def test_a_boot_that_fails_leaves_the_studio_open_to_mend_it(tmp_path: Path) -> None:
    """The env refuses a boot whose ``until`` never holds; the studio, where boots are
    mended, starts anyway and says why (its history from power-on is then unknown)."""
    folder = tmp_path / "breakout-never"
    shutil.copytree(INTEGRATIONS / "a2600-breakout", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["start"]["boot"].append({"frames": 20, "until": "lives_byte == 0"})
    (folder / "metadata.json").write_text(json.dumps(meta))
    session = Session(str(folder))
    try:
        assert "waited 20 frames" in session.status()["error"]
        assert session.history is None and session.pixels is not None
    finally:
        session.close()


def _shipped() -> list[Integration]:
    return [integrations.load(name) for name, folder in integrations.find_folders().items()
            if folder.parent == integrations.integrations_dir()]


@pytest.mark.pure
def test_inputs_and_variables_are_written_as_the_loader_reads_them() -> None:
    """What the studio writes of an input (metadata.json) and of a variable (data.json)
    reads back as the same record, for every shipped integration (no MAME)."""
    games = _shipped()
    assert len(games) > 50
    for game in games:
        controls = {**game.inputs, **game.nudges}
        inputs = {n: studio_inputs.metadata(c) for n, c in controls.items()}
        device, space = game.memory
        specs = {n: _variable_spec(v, device, space) for n, v in game.variables.items()}
        again = integrations.extended(integrations.bare(game.machine), inputs, {})
        assert {**again.inputs, **again.nudges} == controls, game.name
        for name, spec in specs.items():
            assert integrations.parse_variable(name, spec, device, space) \
                == game.variables[name], (game.name, name, spec)

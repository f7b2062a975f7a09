"""Named start states, scenario files and game options (gym-retro's state= and
scenario=), and the cache of booted states, on real MAME.

The folder under test is Boxing with two more states and an option added: ``later``
continues the start's boot by 120 frames, ``rounds`` is a boot of its own, and the
option ``wait`` puts 0 or 120 more frames at the end of the start's boot, so that
``wait=120`` must start exactly where ``state="later"`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gym_mame
from gym_mame import MameEnv
from gym_mame.errors import IntegrationError, UnknownNameError
from gym_mame.integration import load
from gym_mame.runtime.starts import cache_dir


def _edit(folder: Path, change) -> Path:
    path = folder / "metadata.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def boxing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    folder = tmp_path_factory.mktemp("games") / "boxing-states"
    shutil.copytree(Path(__file__).resolve().parent.parent / "integrations" / "a2600-boxing",
                    folder)

    def change(meta: dict) -> None:
        meta["start"]["boot"].append({"option": "wait"})
        meta["start"]["description"] = "the first frame of a bout"
        meta["states"] = {
            "later": {"from": "start", "boot": [{"frames": 120}],
                      "description": "two seconds into the bout"},
            "rounds": {"boot": [{"frames": 60}, {"frames": 4, "press": ["RESET"]},
                                {"frames": 200}]},
        }
        meta["options"] = {"wait": {"values": {"0": [], "120": [{"frames": 120}]},
                                    "default": 0, "description": "frames to wait"}}

    _edit(folder, change)
    scenario = json.loads((folder / "scenario.json").read_text())
    scenario["reward"] = {"expression": "2 * (score - prev(score))"}
    scenario.pop("players")
    (folder / "double.json").write_text(json.dumps(scenario))
    return folder


def _first(env: MameEnv, seed: int = 0) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    return obs


@pytest.mark.pure
def test_states_scenarios_and_options_are_listed(boxing: Path) -> None:
    assert gym_mame.list_states(boxing) == ["start", "later", "rounds"]
    assert gym_mame.list_scenarios(boxing) == ["scenario", "double"]
    options = gym_mame.list_options(boxing)
    assert list(options) == ["wait"] and list(options["wait"].values) == ["0", "120"]
    assert options["wait"].default == "0"
    game = load(boxing)
    # "from" chains resolve into whole boots from power-on: the start's own, then 120 frames
    assert [s.frames for s in game.states["later"].boot if hasattr(s, "frames")][-1] == 120
    assert len(game.states["later"].boot) == len(game.states["start"].boot) + 1


@pytest.mark.pure
def test_cli_lists_one_games_states_and_options(boxing: Path, capsys) -> None:
    from gym_mame.cli import main

    assert main(["list", str(boxing)]) == 0
    out = capsys.readouterr().out
    assert "start [default]: the first frame of a bout" in out
    assert "later: two seconds into the bout" in out
    assert "scenarios (scenario=...): scenario, double" in out
    assert "wait=0 (one of 0, 120): frames to wait" in out


def test_state_option_and_cache(boxing: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Different states start at different points; an option's steps play where the
    boot says; a booted start is cached and the next env loads it, identically."""
    monkeypatch.setenv("GYM_MAME_CACHE", str(tmp_path / "cache"))
    with MameEnv(str(boxing), obs_type="ram") as env:
        start = _first(env)
    with MameEnv(str(boxing), obs_type="ram", state="later") as env:
        later = _first(env)
    assert not np.array_equal(start, later)
    cached = sorted((tmp_path / "cache" / "states" / "a2600").glob("*.sta"))
    assert sorted(p.name.rsplit("-", 1)[0] for p in cached) == ["boxing-states-later",
                                                                 "boxing-states-start"]
    with MameEnv(str(boxing), obs_type="ram", wait=120) as env:
        waited = _first(env)
    np.testing.assert_array_equal(waited, later)  # same frames from power-on, same state
    assert len(list((tmp_path / "cache" / "states" / "a2600").glob("*.sta"))) == 3

    # a damaged cache file is made again, not trusted
    target = next(p for p in cached if "-later-" in p.name)
    target.write_bytes(b"not a state")
    with MameEnv(str(boxing), obs_type="ram", state="later") as env:
        np.testing.assert_array_equal(_first(env), later)
    assert target.read_bytes()[:8] != b"not a st"


def test_random_start_from_a_set_of_states(boxing: Path) -> None:
    with MameEnv(str(boxing), obs_type="ram") as env:
        start = _first(env)
    with MameEnv(str(boxing), obs_type="ram", state="rounds") as env:
        rounds = _first(env)
    with MameEnv(str(boxing), obs_type="ram", state=["start", "rounds"]) as env:
        seen = []
        for seed in range(8):
            obs, info = env.reset(seed=seed)
            expected = start if info["state"] == "start" else rounds
            np.testing.assert_array_equal(obs, expected)
            seen.append(info["state"])
        assert set(seen) == {"start", "rounds"}
        again = [env.reset(seed=seed)[1]["state"] for seed in range(8)]
        assert again == seen  # drawn from the env's seeded generator
        _, _, _, _, info = env.step(0)
        assert info["state"] == seen[-1]


def test_scenario_file_changes_the_rules(boxing: Path) -> None:
    def play(**kwargs: object) -> list[float]:
        with MameEnv(str(boxing), obs_type="ram", repeat_action_probability=0.0,
                     **kwargs) as env:
            env.reset(seed=3)
            env.action_space.seed(3)
            return [float(env.step(env.action_space.sample())[1]) for _ in range(400)]

    plain, double = play(), play(scenario="double")
    assert any(plain), "no point was scored: the comparison says nothing"
    assert double == [2 * r for r in plain]
    with pytest.raises(IntegrationError, match="no rules for 2 players|is played by 1"):
        MameEnv(str(boxing), scenario="double", num_players=2)


@pytest.mark.pure
def test_bad_state_option_and_scenario_names(boxing: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown state 'latr'; closest: later"):
        MameEnv(str(boxing), state="latr")
    with pytest.raises(TypeError, match="unknown argument or game option 'wiat'; closest: wait"):
        MameEnv(str(boxing), wiat=120)
    with pytest.raises(TypeError, match="'frame_skip'; closest: frameskip"):
        MameEnv(str(boxing), frame_skip=4)
    with pytest.raises(ValueError, match="option wait=5 is not one of 0, 120"):
        MameEnv(str(boxing), wait=5)
    with pytest.raises(UnknownNameError, match="unknown scenario 'doubel'; closest: double"):
        MameEnv(str(boxing), scenario="doubel")
    with pytest.raises(ValueError, match="starts from its own boot"):
        MameEnv(str(boxing), num_players=2, state="later")


@pytest.mark.pure
@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["states"]["later"].update({"from": "nowhere"}),
     "states.later.from: continues from 'nowhere', which is not a state"),
    (lambda m: m["states"].update({"a": {"from": "b"}, "b": {"from": "a"}}),
     "goes round in a circle"),
    (lambda m: m.update({"default_state": "level9"}), "the default state 'level9' is not defined"),
    (lambda m: m["options"].update({"speed": {"values": {"1": []}, "default": "1"}}),
     "option 'speed' is used by no boot sequence"),
    (lambda m: m["states"]["rounds"]["boot"].append({"option": "colour"}),
     "names no option under \"options\""),
    (lambda m: m["options"]["wait"].update({"default": "60"}), "'60' is not one of the values"),
    (lambda m: m["options"].update({"frameskip": m["options"].pop("wait")}),
     "not an env argument's name"),
    (lambda m: m["states"].update({"start": {"boot": [{"frames": 1}]}}),
     "\"start\" is the \"start\" key's"),
    (lambda m: m["states"]["later"].update({"state": "../x.sta"}), "must be a file name"),
])
def test_malformed_states_and_options(boxing: Path, tmp_path: Path, change, message) -> None:
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(boxing, folder)
    _edit(folder, change)
    with pytest.raises(IntegrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(folder)


def test_make_state_writes_a_named_state(boxing: Path, tmp_path: Path) -> None:
    import shutil

    from gym_mame.cli import main

    folder = tmp_path / "boxing-states"
    shutil.copytree(boxing, folder)
    assert main(["make-state", str(folder), "--state", "later"]) == 0
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["states"]["later"]["state"] == "later.sta"
    assert (folder / "later.sta").stat().st_size > 1000
    game = load(folder)
    assert game.states["later"].file == folder / "later.sta"
    with MameEnv(str(folder), obs_type="ram", state="later") as env:
        from_file = _first(env)
    with MameEnv(str(boxing), obs_type="ram", state="later") as env:
        np.testing.assert_array_equal(from_file, _first(env))


@pytest.mark.pure
def test_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("GYM_MAME_CACHE", str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("GYM_MAME_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gym_mame"


def _tutorial_folder(tmp_path: Path) -> Path:
    """The folder docs/tutorial.md writes by hand, from its own JSON blocks."""
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "tutorial.md").read_text()
    name = re.search(r"A folder `my-integrations/([^/`]+)/`", text).group(1)
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    folder = tmp_path / name
    folder.mkdir()
    for file, block in zip(("metadata.json", "data.json", "scenario.json"), blocks,
                           strict=False):
        (folder / file).write_text(block)
    return folder


@pytest.mark.pure
def test_the_tutorials_folder_does_not_take_a_bundled_games_place(tmp_path: Path) -> None:
    from gym_mame.wire.resources import integrations_dir

    folder = _tutorial_folder(tmp_path)
    assert not (integrations_dir() / folder.name).exists(), folder.name
    assert load(folder).cartridge.file == "freeway.bin"


def test_make_state_writes_back_only_the_keys_it_sets(tmp_path: Path) -> None:
    from gym_mame.cli import main

    folder = _tutorial_folder(tmp_path)
    before = (folder / "metadata.json").read_text()
    assert main(["make-state", str(folder)]) == 0
    after = (folder / "metadata.json").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]  # the same lines, in the same order, but the start's
    assert len(changed) == 1 and changed[0][0].lstrip().startswith('"start"')
    version = load(folder).starts[0].mame_version
    assert changed[0][1] == changed[0][0].removesuffix("},") + \
        f', "state": "start.sta", "mame_version": "{version}"}},'
    assert main(["make-state", str(folder)]) == 0  # the same MAME: nothing to change
    assert (folder / "metadata.json").read_text() == after
    assert load(folder).starts[0].file == folder / "start.sta"

"""The play core's options (no MAME): one options object, checked once against its
annotations, that every front end takes whole."""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import get_args

import numpy as np
import pytest

import gym_mame
from gym_mame.envs.pettingzoo_env import MameParallelEnv
from gym_mame.runtime.actions import ACTION_TYPES
from gym_mame.runtime.observations import OBS_TYPES, ObsType
from gym_mame.runtime.play import ActionType, PlayOptions, check

OPTION_NAMES = {f.name for f in fields(PlayOptions)} - {"game_options"}


def parameters(function: object) -> set[str]:
    return {name for name, p in inspect.signature(function).parameters.items()
            if p.kind is not p.VAR_KEYWORD} - {"self", "game"}


def test_every_front_end_takes_every_option() -> None:
    assert parameters(gym_mame.MameEnv.__init__) == OPTION_NAMES
    assert parameters(MameParallelEnv.__init__) == OPTION_NAMES | {"max_cycles"}


def test_the_literal_types_are_the_lists_the_checks_use() -> None:
    assert get_args(ObsType) == OBS_TYPES == ("rgb", "grayscale", "ram", "dict")
    assert get_args(ActionType) == ACTION_TYPES  # actions.py's own check uses the list


@pytest.mark.parametrize(("name", "value"), [
    ("frameskip", True), ("frameskip", 0), ("frameskip", 2**32), ("frameskip", 4.0),
    ("noop_max", False), ("noop_max", -1), ("num_players", True), ("max_episode_steps", 0),
    ("max_num_frames_per_episode", "defaults"), ("full_action_space", 1),
    ("rebuild_start_state", "yes"), ("obs_type", "rgb_array"), ("action_type", "box"),
    ("transport", "udp"), ("render_mode", "human_window"), ("repeat_action_probability", 2),
    ("repeat_action_probability", float("nan")), ("repeat_action_probability", True),
    ("obs_size", (84,)), ("obs_size", (84, True)), ("obs_size", "84x84"), ("timeout", 0),
    ("opponents", [3]), ("state", 3), ("rom_path", 3), ("game_options", [("a", 1)]),
])
def test_a_wrong_option_is_refused_by_name(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be .*, not "):
        PlayOptions(**{name: value})


def test_values_of_the_right_kind_pass() -> None:
    options = PlayOptions(frameskip=np.int64(3), repeat_action_probability=0, obs_size=[84, 84],
                          rom_path=["a", "b"], max_num_frames_per_episode=None, timeout=5,
                          full_action_space=np.bool_(True), num_players=2,
                          opponents=[None])
    assert options.frameskip == 3 and options.max_num_frames_per_episode is None
    with pytest.raises(ValueError, match="2 opponent policies for 1 other player"):
        PlayOptions(num_players=2, opponents=[None, None])


def test_keyword_arguments_split_into_options_and_game_options() -> None:
    options = PlayOptions.from_kwargs({"frameskip": 2, "difficulty": 3, "state": "start"})
    assert (options.frameskip, options.state) == (2, "start")
    assert options.game_options == {"difficulty": 3}


def test_a_front_end_names_its_own_option_in_the_error() -> None:
    with pytest.raises(ValueError, match="^max_cycles must be a positive integer"):
        check("max_episode_steps", True, "max_cycles")


@pytest.mark.parametrize("options", [{"frameskip": True}, {"max_cycles": 0},
                                     {"max_cycles": 5, "max_episode_steps": 5},
                                     {"obs_type": "rgb_array"}, {"noop_max": 1.5}])
def test_the_pettingzoo_env_refuses_before_mame_starts(options, monkeypatch) -> None:
    def no_mame(*args: object, **kwargs: object) -> None:
        raise AssertionError("MAME was started")

    monkeypatch.setattr("gym_mame.runtime.play.Emulator", no_mame)
    with pytest.raises(ValueError):
        gym_mame.parallel_env("a2600-boxing", 2, **options)
    if "max_cycles" not in options:
        with pytest.raises(ValueError):
            gym_mame.MameEnv("a2600-boxing", **options)

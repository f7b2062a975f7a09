"""The gym-mame command's registry and the one agreement reporter, without MAME: every
command registered once and listed, errors mapped to exit codes, and any Reference reported
alike (a fake reference, two fake envs)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import gym_mame.cli
from gym_mame.agreement.reference import Incomparable, Pair, SingleAgent, run
from gym_mame.cli import COMMAND_MODULES, build_parser, main
from gym_mame.cli.registry import REGISTRY, Registry
from gym_mame.errors import RomNotFoundError, UnknownNameError

pytestmark = pytest.mark.pure  # runs without MAME

COMMANDS = ["run", "list", "import-roms", "import-retro", "bench", "make-state", "agreement",
            "studio", "machines", "ports", "validate", "record", "replay"]


def test_every_command_is_registered_once_in_the_order_help_lists_them() -> None:
    assert [c.name for c in REGISTRY] == COMMANDS
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == COMMANDS
    for cmd in REGISTRY:  # each lives in the module of its group, which registered it
        module = cmd.handler.__module__
        assert module.rsplit(".", 1)[1] in COMMAND_MODULES, (cmd.name, module)


def test_help_lists_every_command_with_its_help(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for cmd in REGISTRY:
        assert f"{cmd.name} {' '.join(cmd.help.split())}" in text, cmd.name


def test_a_command_registered_twice_is_refused() -> None:
    registry = Registry()
    registry.command("go", "go somewhere")(lambda args: 0)
    with pytest.raises(ValueError, match="'go' is registered twice"):
        registry.command("go", "go elsewhere")(lambda args: 1)
    assert [c.help for c in registry] == ["go somewhere"]


def test_an_unknown_command_is_argparses_one_line_naming_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("gym-mame: error: argument COMMAND: invalid choice: 'frobnicate'")
    assert all(f"'{name}'" in error for name in COMMANDS)


def handled_by(monkeypatch: pytest.MonkeyPatch, name: str, handler: Any) -> list:
    """Replace command ``name``'s handler; returns the list of namespaces it was called with."""
    calls: list[argparse.Namespace] = []

    def record(args: argparse.Namespace) -> int:
        calls.append(args)
        return handler(args)

    monkeypatch.setitem(REGISTRY.commands, name,
                        dataclasses.replace(REGISTRY[name], handler=record))
    return calls


def test_no_command_or_a_leading_option_runs_run(monkeypatch) -> None:
    calls = handled_by(monkeypatch, "run", lambda args: 7)
    assert main([]) == 7 and main(["--episodes", "2"]) == 7
    assert [a.episodes for a in calls] == [1, 2] and calls[0].command == "run"


def raiser(exc: BaseException) -> Any:
    def handler(args: argparse.Namespace) -> int:
        raise exc
    return handler


@pytest.mark.parametrize(("name", "code"), [("run", 1), ("bench", 1), ("machines", 2),
                                            ("ports", 2), ("validate", 2), ("record", 2),
                                            ("replay", 2)])
def test_a_missing_rom_exits_with_the_commands_code(monkeypatch, capsys, name, code) -> None:
    handled_by(monkeypatch, name, raiser(RomNotFoundError("no pong.zip")))
    args = {"run": [], "bench": [], "machines": ["x"], "ports": ["x"], "validate": ["x"],
            "record": ["x", "--out", "y"], "replay": ["x"]}[name]
    assert main([name, *args]) == code
    assert capsys.readouterr().err == "gym-mame: RomNotFoundError: no pong.zip\n"


def test_errors_and_ctrl_c_map_to_exit_codes(monkeypatch, capsys) -> None:
    handled_by(monkeypatch, "list", raiser(UnknownNameError("unknown game 'pnog'")))
    assert main(["list"]) == 1
    assert capsys.readouterr().err == "gym-mame list: unknown game 'pnog'\n"
    handled_by(monkeypatch, "list", raiser(KeyboardInterrupt()))
    assert main(["list"]) == 130


def test_make_state_refuses_a_state_it_cannot_make_before_starting_mame(capsys) -> None:
    assert main(["make-state", "pong", "--state", "nope"]) == 2
    assert capsys.readouterr().err.startswith("pong has no state 'nope'; its states: ")


# -- the one agreement reporter, on a fake reference ------------------------------------
class Counter(gym.Env):  # type: ignore[type-arg]
    """Episodes of ``length`` steps, ``reward`` a step."""

    def __init__(self, reward: float, length: int = 40) -> None:
        self.reward, self.length, self.t = reward, length, 0
        self.action_space = gym.spaces.Discrete(3)
        self.observation_space = gym.spaces.Box(0, 1, (1,), np.uint8)
        self.closed = False

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        self.t = 0
        return np.zeros(1, np.uint8), {}

    def step(self, action: Any) -> tuple:
        self.t += 1
        return np.zeros(1, np.uint8), self.reward, self.t >= self.length, False, {}

    def close(self) -> None:
        self.closed = True


class Fake(SingleAgent):
    label, kind, hint = "Fake", "fake game", "take same, differ or broken"

    def __init__(self) -> None:
        self.opened: list[Pair] = []
        self.closed = False

    def games(self) -> list[str]:
        return ["same", "differ", "broken"]

    def open(self, game: str) -> Pair:
        if game == "broken":
            raise Incomparable("gym_mame: no ROM")
        self.opened.append(Pair(Counter(1.0), Counter(1.0 if game == "same" else 0.0)))
        return self.opened[-1]

    def markdown(self, rows: Any, episodes: int, max_steps: int, seed: int) -> str:
        return "\n".join([*(f"| {r.game} | {r.verdict} |" for r in rows), "summed up"])

    def close(self) -> None:
        self.closed = True


def test_compare_plays_both_sides_and_closes_them() -> None:
    fake = Fake()
    row = fake.compare("same", episodes=3, max_steps=100, seed=0)
    assert row.agrees and row.reference.returns == row.mame.returns == [40.0] * 3
    assert all(env.closed for pair in fake.opened for env in (pair.reference, pair.mame))
    assert not fake.compare("differ", episodes=3).agrees
    broken = fake.compare("broken", episodes=3)
    assert broken.problem == "gym_mame: no ROM" and not broken.agrees
    assert fake.line(broken) == f"{'broken':<20} cannot compare: gym_mame: no ROM"


def test_run_reports_every_row_and_counts_every_episode() -> None:
    seen, done = [], []
    rows = run(Fake(), ["same", "broken", "differ"], 2, 100, 0, report=seen.append,
               progress=done.append)
    assert [r.game for r in rows] == [r.game for r in seen] == ["same", "broken", "differ"]
    assert sum(done) == 2 * 2 * 3  # the broken game's episodes too, though never played


def test_the_agreement_command_reports_any_reference_alike(monkeypatch, capsys,
                                                           tmp_path: Path) -> None:
    fake = Fake()
    monkeypatch.setattr(gym_mame.cli.agreement, "reference_of", lambda args: fake)
    table = tmp_path / "table.md"
    assert main(["agreement", "same", "--episodes", "2", "--quiet",
                 "--markdown", str(table)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("same ") and "return Fake" in out[0] and "agree: yes" in out[0]
    assert out[1:] == ["summed up", f"table written to {table}"]
    assert table.read_text() == "| same | yes |\nsummed up\n" and fake.closed
    assert main(["agreement", "--episodes", "2", "--quiet"]) == 3  # every game: two disagree
    assert "agree: NO" in capsys.readouterr().out
    with pytest.raises(UnknownNameError, match="unknown fake game 'sme'"):
        gym_mame.cli.agreement.cmd_agreement(build_parser().parse_args(["agreement", "sme"]))


def test_tables_pad_every_column_but_the_last(capsys) -> None:
    from gym_mame.cli.table import print_table

    print_table([("id", "ROM", "title"), ("Mame/pong-v0", "not needed", "Pong")])
    assert capsys.readouterr().out.splitlines() == [
        "id            ROM         title", "Mame/pong-v0  not needed  Pong"]

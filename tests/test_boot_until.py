"""Boot steps that wait for what the game shows (``"until"``), on real MAME (Breakout),
and the loader's errors for a bad ``until`` or ``checks``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gym_mame import Emulator
from gym_mame.errors import IntegrationError
from gym_mame.integration import BootStep, load
from gym_mame.integration.expressions import compile_expression

BREAKOUT = Path(__file__).resolve().parent.parent / "integrations" / "a2600-breakout"


def _frame(emu: Emulator) -> tuple[int, int]:
    """The frame counter and lives after one more idle frame."""
    step = emu.step([], frames=1, pixels=False)
    return step.frame, step.values["lives_byte"]


def test_until_stops_at_the_first_frame_it_holds() -> None:
    until = compile_expression("lives_byte < 5", {"lives_byte"})
    with Emulator("a2600-breakout") as emu:
        start = emu.reset(pixels=False).frame  # MAME's counter goes on across loads
        frames = 0  # by hand: serve (FIRE) and let the ball go by until a life is lost
        while emu.step(["FIRE"], frames=1, pixels=False).values["lives_byte"] == 5:
            frames += 1
            assert frames < 3000, "Breakout never lost a life with the paddle still"
        frame, lives = _frame(emu)
        start_again = emu.reset(pixels=False).frame
        emu.boot([BootStep(3000, ("FIRE",), until=until)])
        assert _frame(emu) == (frame - start + start_again, lives)
        assert lives == 4 and frames > 10  # a real wait, not the first frame


def test_until_that_never_holds_names_the_step() -> None:
    until = compile_expression("lives_byte == 0", {"lives_byte"})
    with Emulator("a2600-breakout") as emu:
        emu.reset(pixels=False)
        with pytest.raises(IntegrationError) as info:
            emu.boot([BootStep(30, (), until=until)])
    message = str(info.value)
    assert "waited 30 frames" in message and "'lives_byte == 0'" in message
    assert "lives_byte=5" in message


def test_an_integration_boots_until_a_variable_moves(tmp_path: Path) -> None:
    folder = tmp_path / "breakout-until"
    shutil.copytree(BREAKOUT, folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["start"]["boot"].append({"frames": 3000, "press": ["FIRE"], "until": "lives_byte == 4"})
    (folder / "metadata.json").write_text(json.dumps(meta))
    with Emulator(folder) as emu:
        assert emu.reset(frames=1, pixels=False).values["lives_byte"] == 4


def _broken(tmp_path: Path, change) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(BREAKOUT, folder)
    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.pure
@pytest.mark.parametrize("change, message", [
    (lambda m: m["start"]["boot"].append({"frames": 9, "until": "livez == 4"}),
     "'livez'"),
    (lambda m: m["start"]["boot"].append({"frames": 9, "until": "lives_byte =="}),
     "syntax error"),
    (lambda m: m.update(checks=[{"what": "lives"}]), "how"),
    (lambda m: m.update(checks=[{"what": "lives", "how": " "}]), "must say something"),
    (lambda m: m.update(checks=[{"what": "a", "how": "b", "why": "c"}]), "why"),
])
def test_bad_until_and_checks_are_named(tmp_path: Path, change, message) -> None:
    with pytest.raises(IntegrationError) as info:
        load(_broken(tmp_path, change))
    assert message in str(info.value) and "metadata.json" in str(info.value)


@pytest.mark.pure
def test_checks_are_loaded_in_order(tmp_path: Path) -> None:
    checks = [{"what": "lives", "how": "lose a ball"}, {"what": "score", "how": "hit a brick"}]
    game = load(_broken(tmp_path, lambda m: m.update(checks=checks)))
    assert game.checks == (("lives", "lose a ball"), ("score", "hit a brick"))

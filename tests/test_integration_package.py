"""The integration package's layout (pure, no MAME): it imports nothing above it (the play
code, the envs, the starts chosen at make time), and its names are importable from
``gym_mame.integration`` as they were from the single module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gym_mame import integration
from gym_mame.errors import IntegrationError
from gym_mame.runtime import starts

pytestmark = pytest.mark.pure  # runs without MAME

PACKAGE = Path(integration.__file__).resolve().parent
# what the integration data may stand on, outside the package: the errors, and where the
# bundled folders are installed
BELOW = {"gym_mame.errors", "gym_mame.wire.resources"}

def imported(path: Path) -> set[str]:
    """The gym_mame modules ``path`` imports (``from gym_mame import x`` as gym_mame.x)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gym_mame"):
            names |= ({f"gym_mame.{a.name}" for a in node.names} if node.module == "gym_mame"
                      else {node.module})
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("gym_mame")}
    return names


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_package_imports_nothing_above_it(module: Path) -> None:
    outside = {m for m in imported(module) if not m.startswith("gym_mame.integration")}
    assert outside <= BELOW, f"{module.name} imports {sorted(outside - BELOW)}"


def test_starts_stands_on_the_record() -> None:
    assert "gym_mame.integration.model" in imported(Path(starts.__file__))
    # the names the single module's users import from starts still come from there
    assert starts.Start is integration.Start and starts.DEFAULT_STATE == "start"
    assert starts.STATE_NAME.match("Level1") and starts.fill_boot is integration.fill_boot


@pytest.mark.parametrize("name", integration.__all__)
def test_every_exported_name_exists(name: str) -> None:
    assert getattr(integration, name) is not None


def test_a_folder_is_found_by_name_or_path_or_not_at_all(tmp_path: Path) -> None:
    pong = integration.find_folder("pong")
    assert pong is not None and (pong / "metadata.json").is_file()
    assert integration.find_folder(pong) == pong
    assert integration.find_folder("no-such-game") is None
    assert integration.find_folder(tmp_path) is None  # a folder without metadata.json
    with pytest.raises(IntegrationError, match="no-such-game"):
        integration.game_folder("no-such-game")


def test_user_folders_come_before_the_bundled_one(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert integration.user_search_paths() == [tmp_path / "a", tmp_path / "b"]
    assert integration.search_paths()[-1] == integration.integrations_dir()


def test_a_slot_option_is_two_mame_names() -> None:
    integration.check_slot("joyport1", "pad")
    for name, value in (("joyport1", "pad; rm"), ("-joy", "pad"), ("JOY", "pad")):
        with pytest.raises(ValueError, match="joyport1=pad"):
            integration.check_slot(name, value)


def test_a_variable_in_code_is_read_as_the_loader_reads_data_json() -> None:
    game = integration.load("tempest1")
    assert integration.parse_variable("score", {"address": ["0x42", "0x41", "0x40"],
                                                "type": ">d3"},
                                      *game.memory) == game.variables["score"]
    with pytest.raises(IntegrationError, match="variables.score"):
        integration.parse_variable("score", {"address": 1, "type": "?"}, *game.memory)

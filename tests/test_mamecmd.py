"""MAME's command line, built by gym_mame.wire.mamecmd alone: pure tests, no MAME runs (the
machine listing the check reads is a made-up one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gym_mame.errors import UnknownMachineError
from gym_mame.wire import mameinfo
from gym_mame.wire.mamecmd import FOLDERS, MameCommand
from gym_mame.wire.mameinfo import MachineInfo

pytestmark = pytest.mark.pure  # runs without MAME

PACKAGE = Path(__file__).resolve().parent.parent / "gym_mame"
CONSOLE = MachineInfo(
    name="a2600", description="Atari 2600", year="1977", manufacturer="Atari", clone_of="",
    rom_of="", runnable=True, slots={"joyport1": ("joy", "pad")},
    media={"cart": "cart", "cartridge": "cart"}, required_media=("cart",))


@pytest.fixture(autouse=True)
def listing(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``mame -listxml`` as the check sees it: one machine, a2600; the asks are kept."""
    asked: list[tuple[str, str]] = []

    def machine_info(mame: str, name: str) -> MachineInfo | None:
        asked.append((mame, name))
        return CONSOLE if name == "a2600" else None

    monkeypatch.setattr(mameinfo, "machine_info", machine_info)
    monkeypatch.setattr(mameinfo, "machine_names", lambda mame: ("a2600", "a5200"))
    return asked


def option(argv: list[str], name: str) -> list[str]:
    """The values given to ``name`` in ``argv``, in order."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == name]


def test_a_bridge_run_names_the_machine_media_script_and_private_folders(
        tmp_path: Path, listing: list[tuple[str, str]]) -> None:
    cmd = MameCommand("/usr/games/mame", "a2600", {"cart": "/roms/breakout.bin",
                                                   "joyport1": "pad"},
                      ["/roms", "/more"], "/lua/bridge.lua")
    argv = cmd.argv(tmp_path)
    assert listing == [("/usr/games/mame", "a2600")]  # checked against this MAME
    assert argv[:2] == ["/usr/games/mame", "a2600"]
    assert option(argv, "-cart") == ["/roms/breakout.bin"]
    assert option(argv, "-joyport1") == ["pad"]
    assert option(argv, "-rompath") == ["/roms;/more"]
    assert option(argv, "-autoboot_script") == ["/lua/bridge.lua"]
    assert option(argv, "-homepath") == [str(tmp_path)]
    for flag, folder in FOLDERS:  # everything MAME writes stays in the private folder
        assert option(argv, flag) == [str(tmp_path / folder)]
    assert "-noreadconfig" in argv  # the user's mame.ini is never read
    assert option(argv, "-video") == ["none"] and option(argv, "-sound") == ["none"]
    assert "-nothrottle" in argv and "-window" not in argv and "-str" not in argv


def test_a_window_throttles_only_when_asked_and_still_has_no_sound(tmp_path: Path) -> None:
    watched = MameCommand("mame", "a2600", headless=False, throttle=True).argv(tmp_path)
    assert "-window" in watched and "-nothrottle" not in watched
    assert option(watched, "-video") == [] and option(watched, "-sound") == ["none"]
    assert "-window" not in MameCommand("mame", "a2600", throttle=True).argv(tmp_path)


def test_no_rom_folder_means_an_empty_private_one_not_the_current_folder(
        tmp_path: Path) -> None:
    argv = MameCommand("mame", "a2600").argv(tmp_path)
    assert option(argv, "-rompath") == [str(tmp_path / "roms")]


def test_a_raw_speed_run_has_str_and_no_script(tmp_path: Path) -> None:
    argv = MameCommand("mame", "a2600", {"cart": "/c.bin"}, seconds=5).argv(tmp_path)
    assert option(argv, "-str") == ["5"] and "-autoboot_script" not in argv


@pytest.mark.parametrize("seconds", [0, -1, 2.5, True, "3"])
def test_str_takes_a_positive_whole_number_of_seconds(seconds: object) -> None:
    with pytest.raises(ValueError, match="seconds"):
        MameCommand("mame", "a2600", seconds=seconds)  # type: ignore[arg-type]


def test_the_tools_extra_options_come_last_so_they_win(tmp_path: Path) -> None:
    extra = ["-input_directory", "/rec", "-record", "play.inp"]
    argv = MameCommand("mame", "a2600", extra=extra).argv(tmp_path)
    assert argv[-4:] == extra
    assert option(argv, "-input_directory")[-1] == "/rec"  # MAME takes the last one


@pytest.mark.parametrize(("machine", "media", "says"), [
    ("-listxml", {}, "no machine"),  # a machine name that is an option
    ("a2601", {}, "Did you mean a2600"),
    ("a2600", {"wavwrite": "/tmp/x.wav"}, "no slot or media called 'wavwrite'"),
    ("a2600", {"-cart": "/x.bin"}, "not a slot or media name"),
    ("a2600", {"joyport1": "-listxml"}, "has no option '-listxml'"),
    ("a2600", {"cart": "relative.bin"}, "must be an absolute path"),
    ("a2600", {"cart": "-listxml"}, "must be an absolute path"),
])
def test_nothing_from_an_integration_becomes_a_mame_option(
        machine: str, media: dict[str, str], says: str) -> None:
    with pytest.raises(UnknownMachineError, match=says):
        MameCommand("mame", machine, media)


def test_a_checked_command_keeps_its_own_copy_of_the_media(tmp_path: Path) -> None:
    media = {"cart": "/c.bin"}
    cmd = MameCommand("mame", "a2600", media)
    media["wavwrite"] = "/tmp/x.wav"  # changed after the check
    assert "-wavwrite" not in cmd.argv(tmp_path)


def test_the_environment_is_headless_and_silent_without_overriding_a_chosen_audio() -> None:
    cmd = MameCommand("mame", "a2600")
    env = cmd.environ({"PATH": "/bin", "SDL_VIDEODRIVER": "x11"})
    assert env == {"PATH": "/bin", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    assert cmd.environ({"SDL_AUDIODRIVER": "pulse"})["SDL_AUDIODRIVER"] == "pulse"
    windowed = MameCommand("mame", "a2600", headless=False).environ({"SDL_VIDEODRIVER": "x11"})
    assert windowed["SDL_VIDEODRIVER"] == "x11"


def test_only_the_builder_writes_an_emulation_command_line() -> None:
    """No other module spells the options of an emulation run (listings go through
    mameinfo.run_mame): a new MAME start must come through MameCommand and its check."""
    owned = {"-autoboot_script", "-homepath", "-nothrottle", "-str", "-skip_gameinfo"}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "mamecmd.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in owned:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value}")
    assert not found

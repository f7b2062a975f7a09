"""The gym-mame command, run as a user would."""

import argparse
import subprocess
import sys

import pytest
from video_probe import probe, read_frames

from gym_mame.cli import build_parser


def gym_mame(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gym_mame", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_list_shows_every_integration_and_what_it_needs() -> None:
    out = gym_mame("list")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("Mame/")}
    assert "not needed" in lines["Mame/pong-v0"] and " yes " in lines["Mame/pong-v0"]
    assert "found" in lines["Mame/a2600-breakout-v0"]
    assert "missing" in lines["Mame/sfiii3n-v0"] and "not verified" in lines["Mame/sfiii3n-v0"]


def test_run_prints_returns_and_speed_and_records_video(tmp_path) -> None:
    video = tmp_path / "run.mp4"
    out = gym_mame("run", "--env", "a2600-breakout", "--max-steps", "40", "--quiet",
                   "--record", str(video))
    assert out.returncode == 0, out.stderr
    assert "episode 1: return" in out.stdout and "steps/s" in out.stdout
    assert "video written to" in out.stdout
    # H.264 in 4:2:0, the reset frame + 40 steps, at ALE's 210x160
    assert probe(video) == {"codec": "h264", "pix_fmt": "yuv420p", "size": (160, 210),
                            "frames": 41}
    first = read_frames(video)[0]
    assert first.mean() > 5  # Breakout's walls and bricks, not a black frame


def test_errors_are_one_clear_line_not_a_traceback(tmp_path) -> None:
    out = gym_mame("run", "--env", "sfiii3n", "--rom-path", str(tmp_path))
    assert out.returncode == 1
    assert "RomNotFoundError" in out.stderr and "Traceback" not in out.stderr


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.pure
def test_help_is_plain_text_with_every_command() -> None:
    out = gym_mame("--help")
    assert out.returncode == 0, out.stderr
    assert "``" not in out.stdout and ":func:" not in out.stdout
    assert set(subcommands()) <= set(out.stdout.split())  # every command is listed
    assert "gym-mame COMMAND --help" in out.stdout


@pytest.mark.pure
def test_every_option_of_every_command_has_help_and_shows_its_default() -> None:
    commands = subcommands()
    assert len(commands) == 13
    for name, parser in commands.items():
        text = " ".join(parser.format_help().split())  # undo the line wrapping
        assert "``" not in text, name
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and len(action.help) > 8, f"{label} has no help"
            if action.required or action.nargs == 0 or action.default is False:
                continue  # a required argument or a flag has no default to show
            shown = parser.formatter_class(name)._get_help_string(action)
            assert "default" in shown, f"{label}: no default in {shown!r}"
            if action.default not in (None, []):
                value = action.default
                value = " ".join(value) if isinstance(value, list) else value
                assert f"(default: {value})" in text, f"{label}: default not shown"


@pytest.mark.pure
def test_a_mistyped_env_is_one_line_naming_the_closest() -> None:
    out = gym_mame("run", "--env", "breakout")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0, out.stderr
    assert "unknown env 'breakout'" in out.stderr and "closest: a2600-breakout" in out.stderr
    out = gym_mame("run", "--env", "Mame/a2600-seaquets-v0")
    assert out.returncode == 1 and "closest: a2600-seaquest" in out.stderr


def test_mistyped_names_in_other_commands_are_one_line_too() -> None:
    for args, near in ((["bench", "pong", "breakuot"], "a2600-breakout"),
                       (["make-state", "pongg"], "pong"),
                       (["record", "a2600-sequest", "--out", "/nonexistent/x"], "a2600-seaquest"),
                       (["agreement", "sequest"], "seaquest"),
                       (["ports", "a2600x"], "a2600")):
        out = gym_mame(*args)
        assert out.returncode == 1, (args, out.stderr)
        line = out.stderr.strip()
        assert "\n" not in line and "Traceback" not in line, line
        assert "unknown" in line and near in line.split("closest:")[1], line


def test_validate_lists_the_checks_even_without_the_rom(tmp_path) -> None:
    out = gym_mame("validate", "sfiii3n", "--rom-path", str(tmp_path), "--quiet")
    assert out.returncode == 2 and "RomNotFoundError" in out.stderr
    assert "To confirm by looking at the game" in out.stdout
    assert "  - health (healthP1, healthP2): both read 160" in out.stdout
    assert "  - two players: " in out.stdout


def test_run_leaves_the_env_ids_frameskip_alone_unless_given() -> None:
    for args, frameskip in ((["--env", "Mame/a2600-breakoutNoFrameskip-v0"], 1),
                            (["--env", "a2600-breakout"], 4),
                            (["--env", "Mame/a2600-breakoutNoFrameskip-v0", "--frameskip", "2"],
                             2)):
        out = gym_mame("run", *args, "--max-steps", "5", "--quiet")
        assert out.returncode == 0, out.stderr
        assert f"steps/s at frameskip {frameskip} (" in out.stdout, out.stdout


@pytest.mark.pure
def test_env_options_left_unset_are_none_so_the_id_decides() -> None:
    # Every option a command hands to gymnasium.make: unset, it must not be passed.
    commands = subcommands()
    for command, dest in (("run", "frameskip"), ("run", "max_steps"), ("run", "rom_path"),
                          ("bench", "frameskip")):
        assert getattr(commands[command].parse_args([]), dest) is None, (command, dest)


BAD_NUMBERS = [
    ("run", "--frameskip", "0"), ("run", "--max-steps", "0"), ("run", "--seed", "-1"),
    ("run", "--episodes", "-1"), ("run", "--episodes", "0"), ("run", "--frameskip", "four"),
    ("bench", "--steps", "0"), ("bench", "--repeats", "0"), ("bench", "--frameskip", "-2"),
    ("bench", "--vector", "0,2"),
    ("agreement", "--episodes", "0"), ("agreement", "--max-steps", "-5"),
    ("agreement", "--seed", "-1"), ("agreement", "--jobs", "0"),
    ("studio", "pong", "--port", "70000"), ("studio", "pong", "--port", "-1"),
    ("machines", "pong", "--limit", "0"),
    ("validate", "pong", "--steps", "0"), ("validate", "pong", "--seed", "-3"),
    ("validate", "pong", "--actions", "1,-1"),
    ("record", "pong", "--out", "x", "--steps", "0"), ("record", "pong", "--out", "x",
                                                      "--seed", "-1"),
]


@pytest.mark.pure
@pytest.mark.parametrize("args", BAD_NUMBERS, ids=" ".join)
def test_a_bad_number_is_argparses_one_line_and_exit_2(args, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(list(args))
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"gym-mame {args[0]}: error: argument ") and args[-1] in error


@pytest.mark.pure
def test_every_numeric_option_is_typed() -> None:
    # int would let 0 and negative counts through to a traceback (or a nan mean) later
    for name, parser in subcommands().items():
        for action in parser._actions:
            assert action.type not in (int, float), f"{name} {action.option_strings}"


@pytest.mark.pure
def test_bad_numbers_from_the_issue_exit_2_in_one_line() -> None:
    for args in (["run", "--frameskip", "0"], ["run", "--episodes", "-1"],
                 ["validate", "pong", "--steps", "0"]):
        out = gym_mame(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert out.stdout == "" and "must be an integer >= " in out.stderr


def test_a_missing_rom_set_gives_its_advice_once(tmp_path) -> None:
    out = gym_mame("run", "--env", "sfiii3n", "--rom-path", str(tmp_path))
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    for once in ("GYM_MAME_ROMPATH", str(tmp_path), "rom_path="):
        assert out.stderr.count(once) == 1, (once, out.stderr)
    assert "MAME said: 41 ROM file(s) are missing or wrong (first: " in out.stderr


@pytest.mark.pure
def test_game_options_read_as_metadata_json_gives_them() -> None:
    from gym_mame.integration import list_options

    text = repr(list_options("sfiii3n")["difficulty"])
    assert "BootStep(frames=3, press=['LEFT'])" in text
    assert "until=None" not in text and "press=()" not in text and "set=()" not in text

"""The integration tools of the gym-mame command (machines, ports, validate, record,
replay), run as a user would, against real MAME."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gym_mame.envs.env import MameEnv
from gym_mame.errors import GymMameError
from gym_mame.integration import load
from gym_mame.runtime.roms import find_cartridge, rom_paths
from gym_mame.tools.recording import stop_cleanly


def gym_mame(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gym_mame", *args], capture_output=True,
                          text=True, timeout=timeout)


def rows(stdout: str) -> dict[str, str]:
    """Output lines keyed by their first word."""
    return {line.split()[0]: line for line in stdout.splitlines() if line.strip()}


def mame_processes_using(path: Path) -> list[str]:
    """Command lines of running MAME processes that mention ``path``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "mame" in cmd and str(path) in cmd:
            found.append(cmd)
    return found


# -- machines --------------------------------------------------------------------
def test_machines_finds_pong_with_its_roms_present() -> None:
    out = gym_mame("machines", "pong", "--limit", "3")
    assert out.returncode == 0, out.stderr
    pong = rows(out.stdout)["pong"]
    assert "present" in pong and "1972" in pong and "Atari" in pong
    assert "more matches not shown" in out.stdout  # more than 3 machines match "pong"


def test_machines_reports_missing_roms_and_required_media(tmp_path: Path) -> None:
    out = gym_mame("machines", "sfiii3n", "--rom-path", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "missing" in rows(out.stdout)["sfiii3n"]
    out = gym_mame("machines", "a2600", "--limit", "1")
    assert "-cart" in rows(out.stdout)["a2600"]


def test_machines_with_a_made_up_term_finds_nothing() -> None:
    out = gym_mame("machines", "qqzx-no-such-machine")
    assert out.returncode == 1
    assert "no MAME machine matches" in out.stdout


# -- ports ------------------------------------------------------------------------
def test_ports_lists_pongs_analog_paddles_with_ranges() -> None:
    out = gym_mame("ports", "pong")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    paddle = next(line for line in lines if "'Paddle'" in line)
    assert "analog" in paddle and "min 0 max 255" in paddle
    assert any("'Coin 1'" in line and "digital" in line for line in lines)
    assert "port ':PADDLE1'" in out.stdout
    assert "paddle player 1:" in out.stdout and "sensitivity" in out.stdout


def test_ports_of_a_console_with_a_cartridge() -> None:
    cart = find_cartridge(load("a2600-breakout").cartridge, rom_paths())
    out = gym_mame("ports", "a2600", "--cart", str(cart))
    assert out.returncode == 0, out.stderr
    assert "port ':joyport1:joy:JOY'" in out.stdout and "port ':SWB'" in out.stdout
    assert any("'P1 Button 1'" in line and "digital" in line
               for line in out.stdout.splitlines())


# -- validate ---------------------------------------------------------------------
def test_validate_passes_on_pong_and_reports_its_variables() -> None:
    out = gym_mame("validate", "pong", "--steps", "200", "--quiet")
    assert out.returncode == 0, out.stderr
    table = rows(out.stdout)
    ball = table["ball_counter"].split()
    assert int(ball[4]) > 50  # changes: the ball moves every step
    assert "score_right" in table and "total reward:" in out.stdout
    assert "done reached: no" in out.stdout
    assert "variable ball_counter never changed" not in out.stdout


def test_validate_flags_a_variable_that_never_changes(integration_copy) -> None:
    folder = integration_copy("pong")
    data = json.loads((folder / "data.json").read_text())
    data["info"]["ball_counter"] = {"state": "StopG.Q.net"}  # wrong: a net that stays put
    (folder / "data.json").write_text(json.dumps(data))
    out = gym_mame("validate", str(folder), "--steps", "100", "--quiet", "--strict")
    assert out.returncode == 1
    assert "WARNING: variable ball_counter never changed in 100 steps" in out.stdout


def test_validate_reports_the_end_of_an_episode() -> None:
    out = gym_mame("validate", "a2600-breakout", "--steps", "600", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "done reached: yes, at step" in out.stdout
    assert rows(out.stdout)["lives"].split()[-1] == "0"


def test_validate_plays_a_whole_episode_by_default() -> None:
    """Seaquest's terminal byte moves only at the end: judged after a whole episode, none of
    its shipped variables is flagged."""
    out = gym_mame("validate", "a2600-seaquest", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "done reached: yes, at step" in out.stdout
    assert "WARNING" not in out.stdout, out.stdout
    assert int(rows(out.stdout)["death_flag"].split()[4]) >= 1  # changes


def test_validate_says_when_a_variable_never_moved_in_a_whole_episode() -> None:
    out = gym_mame("validate", "a2600-breakout", "--quiet")
    assert out.returncode == 0, out.stderr
    steps = int(out.stdout.split("done reached: yes, at step ")[1].split()[0])
    # A random agent breaks fewer than 100 points of bricks: the hundreds digit stays 0.
    assert (f"WARNING: variable score_hundreds never changed in a whole episode of random "
            f"play ({steps} steps, to its end; stayed 0)") in out.stdout


@pytest.mark.pure
def test_validate_mistyped_game_is_one_line_with_the_closest() -> None:
    out = gym_mame("validate", "a2600-seaquets")
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "gym-mame validate: unknown game 'a2600-seaquets'; closest: a2600-seaquest. Give a "
        "game name or an integration folder; `gym-mame list` shows them all")


@pytest.mark.pure
def test_validate_load_error_is_one_clear_message(integration_copy) -> None:
    folder = integration_copy("pong")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["machnie"] = "pong"  # a typo: unknown keys are errors
    (folder / "metadata.json").write_text(json.dumps(meta))
    out = gym_mame("validate", str(folder), "--quiet")
    assert out.returncode == 1
    assert "does not load" in out.stderr and "machnie" in out.stderr
    assert "Traceback" not in out.stderr


def test_validate_missing_rom_exits_2_without_traceback(tmp_path: Path) -> None:
    out = gym_mame("validate", "sfiii3n", "--rom-path", str(tmp_path), "--quiet")
    assert out.returncode == 2
    assert "RomNotFoundError" in out.stderr and "sfiii3n" in out.stderr
    assert "Traceback" not in out.stderr


# -- record and replay ------------------------------------------------------------
def test_record_and_replay_round_trip_from_the_inp_alone(tmp_path: Path) -> None:
    rec = tmp_path / "seaquest"
    out = gym_mame("record", "a2600-seaquest", "--out", str(rec), "--steps", "150",
                   "--seed", "3", "--quiet")
    assert out.returncode == 0, out.stderr
    inp = (rec / "play.inp").read_bytes()
    assert inp.startswith(b"MAMEINP\0") and len(inp) > 1000  # header + recorded frames
    assert (rec / "start.sta").is_file() and (rec / "end.sta").is_file()
    info = json.loads((rec / "recording.json").read_text())
    assert info["steps"] == 150 and len(info["actions"]) == 150 and info["ram_md5"]

    # Seaquest's inputs are digital: MAME's playback alone reproduces the play.
    out = gym_mame("replay", str(rec), "--inputs", "inp")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK:" in out.stdout and f"score = {info['variables']['score']}" in out.stdout
    assert mame_processes_using(rec) == []


def test_replay_detects_a_mismatch(tmp_path: Path) -> None:
    rec = tmp_path / "seaquest"
    assert gym_mame("record", "a2600-seaquest", "--out", str(rec), "--steps", "100",
                    "--quiet").returncode == 0
    info = json.loads((rec / "recording.json").read_text())
    info["variables"]["score"] += 1  # claim a different outcome
    (rec / "recording.json").write_text(json.dumps(info))
    out = gym_mame("replay", str(rec))
    assert out.returncode == 1
    assert "MISMATCH" in out.stdout and "variable score" in out.stdout


def test_pong_replay_needs_the_actions_for_its_analog_paddle(tmp_path: Path) -> None:
    rec = tmp_path / "pong"
    out = gym_mame("record", "pong", "--out", str(rec), "--steps", "60", "--quiet")
    assert out.returncode == 0, out.stderr
    out = gym_mame("replay", str(rec))  # auto: the .inp plus the recorded actions
    assert out.returncode == 0 and "OK:" in out.stdout, out.stdout + out.stderr
    # The paddle values the bridge sets are not in the .inp (MAME records the analog
    # accumulator, not Lua's override), so the .inp alone ends elsewhere.
    out = gym_mame("replay", str(rec), "--inputs", "inp")
    assert out.returncode == 1
    assert "MISMATCH" in out.stdout and "end state differs" in out.stdout


@pytest.mark.parametrize("args", [["--steps", "200"], ["--steps", "250", "--agent", "noop"]])
def test_pong_records_and_replays_at_the_step_counts_that_once_failed(args, tmp_path: Path) -> None:
    # These ended in "MAME did not stop within 10 s ... (is MAME's plugin support disabled?)":
    # the end state's save failed the stopping step (see test_env_pong), not the plugin.
    rec = tmp_path / "pong"
    out = gym_mame("record", "pong", "--out", str(rec), *args, "--quiet")
    assert out.returncode == 0, out.stderr
    assert json.loads((rec / "recording.json").read_text())["steps"] == int(args[1])
    quiet = args[1] == "250"  # once each way: the replay's progress bar, and --quiet
    out = gym_mame("replay", str(rec), *(["--quiet"] if quiet else []))
    assert out.returncode == 0 and "OK:" in out.stdout, out.stdout + out.stderr
    # the bar counts steps; its last count shows only if a refresh (every 0.1 s) came
    # after the last step, so the count is not asserted
    assert out.stderr == "" if quiet else re.search(r"\d+step \[", out.stderr)


def test_stopping_without_the_plugin_says_the_plugin_did_not_act() -> None:
    env = MameEnv("pong")  # no recording, no plugin loaded
    try:
        env.reset(seed=0)
        with pytest.raises(GymMameError, match="plugin did not act"):
            stop_cleanly(env.emulator)
    finally:
        env.close()


@pytest.mark.pure
def test_record_human_without_a_display_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-m", "gym_mame", "record", "a2600-breakout",
                          "--out", str(tmp_path / "h"), "--human"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 1
    assert "no display" in out.stderr and "Traceback" not in out.stderr


# -- clear errors before any progress --------------------------------------------------
def test_ports_with_a_missing_cartridge_file_says_so(tmp_path: Path) -> None:
    out = gym_mame("ports", "a2600", "--cart", str(tmp_path / "freeway.bin"))
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (f"gym-mame: RomNotFoundError: cartridge file "
                                  f"{tmp_path / 'freeway.bin'} does not exist")


def test_validate_without_the_rom_draws_no_bar_first(tmp_path: Path) -> None:
    out = gym_mame("validate", "tempest1", "--rom-path", str(tmp_path))
    assert out.returncode == 2 and "RomNotFoundError" in out.stderr
    assert "0/5000" not in out.stderr and "step" not in out.stderr, out.stderr


def test_agreement_shows_its_progress_in_episodes() -> None:
    out = gym_mame("agreement", "pong", "--episodes", "1", "--max-steps", "20")
    assert out.returncode == 0, out.stderr
    assert "pong" in out.stdout and "agree: yes" in out.stdout
    assert "2/2" in out.stderr and "episode" in out.stderr  # ALE's episode and gym_mame's
    quiet = gym_mame("agreement", "pong", "--episodes", "1", "--max-steps", "20", "--quiet")
    assert quiet.returncode == 0 and "episode" not in quiet.stderr  # (ALE's banner is there)

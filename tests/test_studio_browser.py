"""The studio in a real (headless) Chromium, as a person would use it.

On Atari 2600 Breakout (the cartridge ale-py ships), starting from the bare
``a2600`` machine: play with the keyboard, find the score and the lives by
memory search while watching the screen's digits change (the test never uses
the known addresses to decide anything, only to check the answer at the end),
edit reward and done and see them evaluated, check that bad input gets a clear
message, save a start state, write the folder, then load it with
``gymnasium.make`` and play it.

Playwright drives the browser: its Python package is a pip install with its own
driver and auto-waiting, and ``executable_path`` points it at Debian's
``chromium``, so nothing is downloaded. (Selenium would need a second system
package, chromium-driver, and explicit waits.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import gymnasium as gym
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Screenshots for the docs: written to docs/images only when asked
# (GYM_MAME_SCREENSHOTS=1), so a test run leaves the working tree as it was.
IMAGES = ROOT / "docs" / "images" if os.environ.get("GYM_MAME_SCREENSHOTS") else None
# Where a person reads the digits on the 176x223 a2600 Breakout screen: 12-pixel
# cells from x = 44 every 16 pixels; score in cells 0-2, lives in 4, player number in 6.
ROWS = slice(18, 28)
SCORE_DIGITS = (ROWS, slice(44, 88))
LIVES_DIGIT = (ROWS, slice(108, 120))
LAST_SCORE_DIGIT = (ROWS, slice(76, 88))
PLAYER_DIGIT = (ROWS, slice(140, 152))  # shows "1": the glyph to read a score of 1 with
PLAY_LIMIT = 120  # seconds of play allowed to see a digit change


class GameOver(Exception):
    """Start the phase over from the start state: the game ended (the digits blink) or
    the search went wrong before it was done."""


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is not installed: run scripts/setup (it installs the 'chromium' "
                "package) before the test suite")


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    ale_py = pytest.importorskip("ale_py")
    cart = Path(ale_py.__file__).parent / "roms" / "breakout.bin"
    out = tmp_path / "integrations"
    env = {**os.environ, "GYM_MAME_INTEGRATIONS": str(out), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gym_mame", "studio", "a2600", "--cart", str(cart),
         "--slot", "joyport1=pad",
         "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        # the address to open carries this run's token, as a notebook server's does
        match = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
        assert match, f"studio did not start: {line}{proc.stderr.read()}"  # type: ignore
        yield match.group(0), proc, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def frame(url: str) -> np.ndarray:
    """The current frame as the page shows it (PNG, exact pixels); ``url`` is the
    address the studio printed, whose token every API request carries."""
    base, token = url.split("?token=")
    request = urllib.request.Request(f"{base}api/frame?after=0&format=png",
                                     headers={"X-Studio-Token": token})
    with urllib.request.urlopen(request) as response:
        return cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)


def mame_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "mame"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_find_variables_write_an_integration_and_load_it(studio, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, proc, out = studio
    expect.set_options(timeout=20_000)  # a loaded 2-core machine answers slowly at times
    assert mame_children(proc.pid), "the studio should run one MAME"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function("window.studioStats.shown > 0")
        message = page.locator("#message")

        def click(selector: str) -> None:
            """Click, after clearing the message line, so the next check sees this
            action's answer and not an older one."""
            page.evaluate("m => { m.textContent = ''; m.className = ''; }",
                          message.element_handle())
            page.click(selector)

        def ok(text: str) -> None:
            expect(message).to_contain_text(text)
            expect(message).not_to_have_class("error")

        def refused(text: str) -> None:
            expect(message).to_have_class("error")
            expect(message).to_contain_text(text)

        def set_running(running: bool) -> None:
            button = page.locator("#run-toggle")
            if (button.inner_text() == "Pause") != running:
                button.click()
            page.wait_for_function(f"fetch('/api/status').then(r => r.json())"
                                   f".then(s => s.running === {str(running).lower()})")

        # Power on, press the console's Reset (Enter) as the game asks, save the start.
        set_running(True)
        page.wait_for_timeout(1200)
        page.click("#screen-box")
        page.keyboard.down("Enter")
        page.wait_for_timeout(250)
        page.keyboard.up("Enter")
        page.wait_for_timeout(300)
        page.fill("#slot-name", "start")
        click("#save-state")
        ok("saved state start")
        fps_seen = page.evaluate("window.studioStats.shown")
        page.wait_for_timeout(2000)
        view_fps = (page.evaluate("window.studioStats.shown") - fps_seen) / 2
        print(f"live view: {view_fps:.0f} frames/s shown")
        assert view_fps >= 2  # it moves; about 60 on an idle 2-core machine
        if IMAGES:
            page.screenshot(path=str(IMAGES / "studio-play.png"))

        # Bad input gets a clear message and the studio keeps going.
        page.select_option("#search-source", label=":maincpu program (8192 bytes)")
        page.fill("#search-start", "0x80")
        page.fill("#search-length", "banana")
        click("#search-start-button")
        refused("length: expected an integer")
        page.fill("#var-name", "oops")
        page.fill("#var-address", "0x99999")
        click("#add-variable")
        refused("outside :maincpu program")

        def search(type_text: str, first: tuple[str, str] | None) -> None:
            page.fill("#search-start", "0x80")
            page.fill("#search-length", "0x80")
            page.select_option("#search-order", value=type_text[0])
            page.select_option("#search-kind", value=type_text[1])
            page.select_option("#search-size", value=type_text[2])
            click("#search-start-button")
            ok("new search")
            if first:
                narrow(*first)

        def narrow(op: str, value: str = "") -> int:
            page.select_option("#narrow-op", op)
            page.fill("#narrow-value", value)
            click("#narrow-button")
            expect(message).to_contain_text(f"{op}: ")
            return int(re.search(r"(\d+) left", message.inner_text()).group(1))

        def play_until_digits_change(region: tuple[slice, slice], op: str,
                                     value: str = "") -> None:
            """Play; every half second pause, narrow by 'unchanged', run a few more frames
            and look at the digits. A game draws its digits before it updates them (and
            may spread the work over frames), so the picture lags memory: if the digits
            did change, undo and narrow by ``op`` instead."""
            set_running(False)
            page.fill("#step-frames", "16")
            for _ in range(2):  # let the digits catch up with memory (e.g. after a load)
                click("#step-button")
                expect(message).to_contain_text("stepped to frame")
            before = frame(url)[region].copy()
            deadline = time.monotonic() + PLAY_LIMIT
            direction = "ArrowUp"
            turn = 0
            while time.monotonic() < deadline:
                set_running(True)
                page.keyboard.down("Space")  # serve
                page.keyboard.down(direction)
                page.wait_for_timeout(120)
                page.keyboard.up("Space")
                page.wait_for_timeout(380)
                turn += 1
                if turn % 4 == 0:
                    page.keyboard.up(direction)
                    direction = "ArrowDown" if direction == "ArrowUp" else "ArrowUp"
                set_running(False)
                narrow("unchanged")
                click("#step-button")
                expect(message).to_contain_text("stepped to frame")
                if np.array_equal(frame(url)[region], before):
                    continue
                page.keyboard.up(direction)
                click("#undo-button")
                expect(message).to_contain_text("undo: ")
                seen = frame(url)[region].copy()
                for _ in range(2):  # a change that holds, not game-over blinking
                    click("#step-button")
                    expect(message).to_contain_text("stepped to frame")
                    if not np.array_equal(frame(url)[region], seen):
                        raise GameOver
                narrow(op, value)
                return
            pytest.fail(f"no digit change seen in {PLAY_LIMIT} s of play")

        def attempts(phase: Callable[[], None]) -> None:
            """Run a phase; if the game ends first, load the start state and try again."""
            for _ in range(5):
                try:
                    phase()
                    return
                except GameOver:
                    page.keyboard.up("ArrowUp")
                    page.keyboard.up("ArrowDown")
                    page.select_option("#slot-list", "start")
                    click("#load-state")
                    ok("loaded state start")
            pytest.fail("the game ended five times before the phase was done")

        # The score: BCD, two bytes big-endian, 0 at the start; it only goes up.
        set_running(False)
        start_screen = frame(url)
        one = start_screen[PLAYER_DIGIT].copy()
        zero = start_screen[LAST_SCORE_DIGIT].copy()
        rows = page.locator("#results tbody tr")

        def find_score() -> None:
            search(">d2", ("equal", "0"))
            for _ in range(6):
                play_until_digits_change(SCORE_DIGITS, "increased")
                if int(re.search(r"(\d+) left", message.inner_text()).group(1)) == 0:
                    raise GameOver  # the score was thrown out: start over
                expect(rows.first).to_be_visible()
                screen = frame(url)
                if rows.count() > 1 and np.array_equal(screen[LAST_SCORE_DIGIT], one) \
                        and np.array_equal(screen[(ROWS, slice(44, 72))],
                                           np.concatenate([zero, screen[(ROWS, slice(56, 60))],
                                                           zero], axis=1)):
                    narrow("equal", "1")  # the screen reads 001
                if rows.count() == 1:
                    return
            # A brick hit in the frames between a look at the digits and a narrowing can
            # throw the score out; start over from the start state, as after a game over.
            raise GameOver

        def adopt(name: str, address: str) -> None:
            """The search found one address, the expected one: make it a variable."""
            assert rows.count() == 1, page.inner_text("#results")
            assert rows.first.get_attribute("data-where") == address, \
                page.inner_text("#results")
            rows.first.locator("button").click()
            page.fill("#var-name", name)
            click("#add-variable")
            ok(f"variable {name} added")

        attempts(find_score)
        adopt("score", "0xCC")
        if IMAGES:
            page.screenshot(path=str(IMAGES / "studio-search.png"))

        # The lives, from the start again: one byte, 5 on the screen, down by one per ball.
        page.select_option("#slot-list", "start")
        click("#load-state")
        ok("loaded state start")
        def find_lives() -> None:
            search("<u1", ("equal", "5"))
            for _ in range(4):
                play_until_digits_change(LIVES_DIGIT, "decreased-by", "1")
                if rows.count() <= 1:
                    break

        attempts(find_lives)
        adopt("lives", "0xB9")
        click("#load-state")
        ok("loaded state start")

        # Reward and done: mistakes are explained, a good scenario is evaluated live.
        page.fill("#scenario", '{"reward": {"variables": {"score": {"reward": 1.0}}')
        click("#apply-scenario")
        refused("not valid JSON at line 1")
        page.fill("#scenario", '{"reward": {"variables": {"points": {"reward": 1.0}}}}')
        click("#apply-scenario")
        refused("uses variable 'points'")
        # Evaluated live: a lost life costs 1 and a point earns 1, so after some play the
        # episode return must be score - lives lost, whatever the ball did.
        live = {"reward": {"variables": {"score": {"reward": 1.0}, "lives": {"penalty": 1.0}}},
                "done": {"variables": {"lives": {"op": "zero"}}}}
        page.fill("#scenario", json.dumps(live, indent=2))
        click("#apply-scenario")
        ok("scenario applied")

        def lose_a_life() -> None:
            lives_cell = '#variables td[data-value="lives"]'
            set_running(True)
            deadline = time.monotonic() + PLAY_LIMIT
            try:
                while int(page.inner_text(lives_cell)) == 5 and time.monotonic() < deadline:
                    page.keyboard.down("Space")  # serve, then let the ball go by
                    page.wait_for_timeout(120)
                    page.keyboard.up("Space")
                    page.wait_for_timeout(500)
            finally:
                set_running(False)
            page.wait_for_timeout(600)  # a status poll or two, now paused
            lives = int(page.inner_text(lives_cell))
            score = int(page.inner_text('#variables td[data-value="score"]'))
            assert lives < 5
            assert float(page.inner_text("#episode-return")) == score - (5 - lives)

        lose_a_life()

        # The scenario the folder gets: the score is the reward.
        click("#load-state")
        ok("loaded state start")
        scenario = {"reward": {"variables": {"score": {"reward": 1.0}}},
                    "done": {"variables": {"lives": {"op": "zero"}}}}
        page.fill("#scenario", json.dumps(scenario, indent=2))
        click("#apply-scenario")
        ok("scenario applied")

        # Write the folder from the start state; a bad actions list is refused first.
        page.select_option("#write-slot", "start")
        page.fill("#write-folder", str(out / "breakout-studio"))
        page.fill("#write-actions", '[["FIRE"]]')
        click("#write-button")
        refused("NOOP")
        page.fill("#write-actions", '[[], ["BUTTON_1"], ["PADDLE_UP"], ["PADDLE_DOWN"]]')
        click("#write-button")
        ok("wrote")
        expect(page.locator("#write-result")).to_contain_text("Mame/breakout-studio-v0")
        if IMAGES:
            page.screenshot(path=str(IMAGES / "studio-write.png"), full_page=True)
        browser.close()

    children = mame_children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    time.sleep(0.5)
    assert not [p for p in children if Path(f"/proc/{p}").exists()], "MAME outlived the studio"

    folder = out / "breakout-studio"
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["machine"] == "a2600" and metadata["cartridge"]["package"] == "ale_py"
    assert json.loads((folder / "data.json").read_text())["info"] == {
        "score": {"address": 0xCC, "type": ">d2"}, "lives": {"address": 0xB9, "type": "<u1"}}
    assert (folder / "start.sta").is_file() and metadata["start"]["boot"]

    # The folder is a game: gymnasium finds it through $GYM_MAME_INTEGRATIONS.
    os.environ["GYM_MAME_INTEGRATIONS"] = str(out)
    try:
        import gym_mame

        assert "Mame/breakout-studio-v0" in gym_mame.register_envs()
        env = gym.make("Mame/breakout-studio-v0")
        try:
            env.action_space.seed(0)
            for episode in range(8):  # random play scores within an episode or two
                first, info = env.reset(seed=episode)
                assert info["lives"] == 5 and info["score"] == 0
                total, terminated = 0.0, False
                while not terminated:
                    _, reward, terminated, _, info = env.step(env.action_space.sample())
                    total += float(reward)
                assert info["lives"] == 0 and total == info["score"]
                if total > 0:
                    break
            assert total > 0
            first, _ = env.reset(seed=0)
        finally:
            env.close()
        # The recorded boot sequence rebuilds the same start state from power-on.
        from gym_mame.envs.env import MameEnv

        rebuilt = MameEnv(str(folder), rebuild_start_state=True)
        try:
            again, _ = rebuilt.reset(seed=0)
            assert np.array_equal(first, again)
        finally:
            rebuilt.close()
    finally:
        del os.environ["GYM_MAME_INTEGRATIONS"]

"""Every ```python block of README.md and docs/tutorial.md runs as written (real MAMEs).

A document's blocks run in order in one namespace, as a reader pastes them into one
session (later blocks use the ``gym`` the first imports), in a temporary working folder
(the Emulator block's ``breakout.bin`` is put there, copied from ale-py's cartridge; the
video block writes ``videos/`` there). What is changed, mechanically, is only this:

- ``SUBSTITUTIONS``: lengths of training and numbers of MAMEs, so that a block finishes
  in seconds (each string must be found in its document, or the test fails);
- ``PROVIDED``: names a block leaves to the reader (``frozen_policy``, the policy of a
  self-play opponent).

Blocks containing a ``SLOW`` marker run only with ``GYM_MAME_README_ALL=1``, which runs
every block (about 50 s here); CI runs the others (about 20 s): RLlib's PPO (Ray and its
workers start, about 10 s) and PettingZoo's loop over a whole Boxing game (about 17 s). The shell
set-up commands are kept in step with CI by tests/test_project.py.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/tutorial.md")

SUBSTITUTIONS: dict[str, list[tuple[str, str]]] = {
    "README.md": [
        # SB3's PPO: one short rollout of 2 MAMEs instead of 100,000 steps of 8
        ('MameVecEnv("a2600-breakout", n_envs=8,', 'MameVecEnv("a2600-breakout", n_envs=2,'),
        ('PPO("MlpPolicy", env).learn(100_000)',
         'PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1).learn(128)'),
        # fewer MAMEs on a 2-core machine
        ("num_envs=8,", "num_envs=2,"),
        ('n_envs=4)', 'n_envs=2)'),
        # RLlib: one local env runner of 2 sub-envs, and a small batch, for one train()
        ("num_env_runners=2, num_envs_per_env_runner=4,",
         "num_env_runners=0, num_envs_per_env_runner=2,"),
        ("algo = config.build_algo()",
         "algo = config.training(train_batch_size_per_learner=64, minibatch_size=32, "
         "num_epochs=1).build_algo()"),
    ],
    "docs/tutorial.md": [],
}
PROVIDED: dict[str, Any] = {"frozen_policy": lambda observation: 0}
SLOW = ("algo.train()", "while env.agents:")


def python_blocks(document: str) -> list[tuple[int, str]]:
    """The document's ```python blocks, each with the line it starts on."""
    text = (ROOT / document).read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


def substituted(document: str) -> list[tuple[int, str]]:
    blocks = python_blocks(document)
    for old, new in SUBSTITUTIONS[document]:
        hits = [i for i, (_, code) in enumerate(blocks) if old in code]
        assert hits, f"{document} no longer has {old!r}: update SUBSTITUTIONS"
        for i in hits:
            line, code = blocks[i]
            blocks[i] = (line, code.replace(old, new))
    return blocks


def close_all(namespace: dict[str, Any]) -> None:
    """Stop what the blocks left running (a reader's session would end with them)."""
    for value in namespace.values():
        for name in ("stop", "close"):
            method = getattr(value, name, None)
            if callable(method) and not isinstance(value, type):
                try:
                    method()
                except Exception:
                    pass
                break
    if "ray" in namespace or "algo" in namespace:
        import ray

        ray.shutdown()


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from gym_mame import integration
    from gym_mame.runtime.roms import find_cartridge, rom_paths

    cartridge = integration.load("a2600-breakout").cartridge
    shutil.copy(find_cartridge(cartridge, rom_paths(None)), tmp_path / "breakout.bin")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__readme__", **PROVIDED}
    yield namespace
    close_all(namespace)


def tutorial_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder the tutorial's shell steps build (``my-freeway``, the bundled Freeway's
    twin), on ``$GYM_MAME_INTEGRATIONS`` as the tutorial puts it, and registered."""
    from gym_mame.envs.registration import register_envs

    folders = tmp_path / "integrations"
    shutil.copytree(ROOT / "integrations" / "a2600-freeway", folders / "my-freeway")
    monkeypatch.setenv("GYM_MAME_INTEGRATIONS", str(folders))
    register_envs()


@pytest.mark.parametrize("document", DOCUMENTS)
def test_python_blocks_run_as_written(document: str, session: dict[str, Any], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if document == "docs/tutorial.md":
        tutorial_folder(tmp_path, monkeypatch)
    run_all = os.environ.get("GYM_MAME_README_ALL") == "1"
    ran, slow = 0, 0
    for line, code in substituted(document):
        if not run_all and any(marker in code for marker in SLOW):
            slow += 1
            continue
        try:
            exec(compile(code, f"{document}:{line}", "exec"), session)
        except Exception as exc:
            raise AssertionError(f"the block at {document} line {line} fails: "
                                 f"{type(exc).__name__}: {exc}") from exc
        ran += 1
    assert ran + slow == len(python_blocks(document)) > 0
    assert slow <= 2  # a new block runs in CI unless it is one of the two slow ones

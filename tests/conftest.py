"""Shared fixtures. Tests that cross the bridge start real MAME processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gym_mame.errors import MameNotFoundError
from gym_mame.wire.bridge import find_mame

INTEGRATIONS = Path(__file__).resolve().parent.parent / "integrations"


def _have_mame() -> bool:
    try:
        find_mame()
    except MameNotFoundError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pure: runs without MAME (pure logic, or the fake "
                            "MAME of tests/fakemame); `pytest -m pure` runs these alone")


@pytest.hookimpl(trylast=True)  # after `-m` / `-k` have deselected what they leave out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # MAME is part of the README's test set-up; without it a run that needs it must fail
    # loudly, not skip: the bridge tests are the point of the suite.
    needing = [item for item in items if item.get_closest_marker("pure") is None]
    if needing and not _have_mame():
        raise pytest.UsageError(
            f"MAME is not installed, and {len(needing)} of the {len(items)} tests selected "
            "drive a real MAME: run the README's test command, which installs it (apt-get "
            "install mame), or `pytest -m pure` for the tests that need no MAME")


@pytest.fixture(autouse=True, scope="session")
def _own_state_cache(tmp_path_factory: pytest.TempPathFactory):
    """Start states booted during the run are cached in a folder of the run's own,
    so a user's cache neither changes the tests nor collects their states."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GYM_MAME_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def integration_copy(tmp_path: Path):
    """Copy a bundled integration folder into tmp_path so a test can break it."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(INTEGRATIONS / name, target)
        return target

    return copy

"""Shared fixtures. Tests that cross the bridge start real MAME processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gym_mame.bridge import find_mame
from gym_mame.errors import MameNotFoundError

INTEGRATIONS = Path(__file__).resolve().parent.parent / "integrations"


def _have_mame() -> bool:
    try:
        find_mame()
    except MameNotFoundError:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # MAME is part of the README's test set-up; without it the run must fail loudly,
    # not skip: the bridge tests are the point of the suite.
    if not _have_mame():
        raise pytest.UsageError("MAME is not installed: run the README's test command, "
                                "which installs it (apt-get install mame)")


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

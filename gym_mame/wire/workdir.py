"""Private temporary folders for MAME processes, and the clean-up of abandoned ones.

Each MAME gets a folder of its own (mode 0700: its socket, cfg, nvram, save
states and log). The process that made a folder holds an exclusive lock on a
file inside it for as long as it lives; the kernel drops the lock when that
process dies, however it dies. So a folder whose lock can be taken belongs to
nobody any more (its owner was killed before it could clean up) and is removed
when the next gym_mame process starts a MAME.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "gym_mame-"
LOCK_NAME = ".owner.lock"
# A folder without a lock file is either being created right now or was left by
# an older gym_mame; only the second kind is this old.
UNLOCKED_GRACE_SECONDS = 3600
# A folder is locked a moment after it is made: a younger one is left alone.
NEW_FOLDER_SECONDS = 2.0

_swept = False
_sweep_lock = threading.Lock()


class PrivateDir:
    """A new folder under the system's temporary folder, locked by this process."""

    def __init__(self, kind: str = "") -> None:
        sweep_stale()
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}"))  # mode 0700
        self._lock_fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self.owner = os.getpid()

    def remove(self) -> None:
        """Delete the folder (only in the process that made it). Safe to call twice."""
        if self._lock_fd < 0 or os.getpid() != self.owner:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)
        self._lock_fd = -1


def sweep_stale(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove this user's abandoned gym_mame folders; return what was removed.

    Runs once per process (the first PrivateDir) unless ``root`` is given."""
    global _swept
    with _sweep_lock:
        if root is None:
            if _swept:
                return []
            _swept = True
        base = Path(root if root is not None else tempfile.gettempdir())
        removed = []
        try:
            candidates = [p for p in base.iterdir() if p.name.startswith(PREFIX)]
        except OSError:
            return []
        for folder in candidates:
            if _abandoned(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed


def _abandoned(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
        return False
    age = time.time() - info.st_mtime
    if age < NEW_FOLDER_SECONDS:
        return False
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return age > UNLOCKED_GRACE_SECONDS
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its owner is alive
    finally:
        os.close(fd)  # also releases the lock we may have taken
    return True

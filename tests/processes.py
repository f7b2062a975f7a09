"""What the tests read about a process from /proc: whether it runs, and its CPU time."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        return _stat(pid)[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_gone(pid: int, seconds: float) -> bool:
    """Whether ``pid`` is gone (or a zombie) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def cpu_used(pid: int, seconds: float) -> float:
    """CPU seconds (user and system) that ``pid`` uses while the caller sleeps ``seconds``."""
    def cpu() -> float:
        fields = _stat(pid)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = cpu()
    time.sleep(seconds)
    return cpu() - before


def least_cpu_used(pid: int, seconds: float, windows: int) -> list[float]:
    """CPU seconds ``pid`` uses in successive windows of ``seconds``, stopping at the first
    that is near zero (below 0.05 s). A spinning process uses CPU in every window; a blocked
    one, on a loaded machine, may still be finishing earlier work in the first."""
    used: list[float] = []
    for _ in range(windows):
        used.append(cpu_used(pid, seconds))
        if used[-1] < 0.05:
            break
    return used

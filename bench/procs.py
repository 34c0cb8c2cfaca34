"""What a server process tree costs, read from ``/proc``: CPU seconds (user + system) and
resident memory, summed over the process and all its descendants (gunicorn, uvicorn and
devpi workers)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return text[text.rfind(")") + 2 :].split()


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """User plus system CPU time of the tree under ``root`` (live processes only)."""
    total = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_bytes(root: int) -> int:
    """Resident set size of the tree under ``root``."""
    total = 0
    for pid in descendants(root):
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * PAGE_SIZE
    return total


class PeakRss:
    """Samples the tree's RSS every ``interval`` seconds in a thread; ``peak`` is the max."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self._root = root
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = rss_bytes(root)
        self.peak = self.baseline
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self._root))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, rss_bytes(self._root))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def settle(root: int, quiet: float = 0.3, timeout: float = 10.0) -> float:
    """Wait until the tree under ``root`` has spent (almost) no CPU for ``quiet`` seconds,
    or ``timeout`` passed: a server just started may still be warming up in the background
    (Packyard builds its routes' request models after it answers, about 0.2-0.5 s of CPU
    a worker), which is not what a measurement that follows is about. Returns the CPU
    seconds spent while waiting."""
    first = before = cpu_seconds(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(root)
        if now - before <= 1.5 / CLOCK_TICKS:
            break
        before = now
    return cpu_seconds(root) - first

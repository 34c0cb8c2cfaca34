"""Whether the rest of this process is busy, so that background work can make way for it.

A background job (the webhook sender) runs in a worker thread of the process that answers
requests; while requests keep the process busy, the CPU the job spends is taken from them
(two worker processes saturate two cores). ``ProcessLoad`` compares the CPU the whole
process used (``time.process_time``) with what the calling thread used
(``time.thread_time``) over the wall time since it last looked: the difference is what
every other thread (the event loop, the request threads, other jobs) used. It reads three
clocks, no system call beyond them and nothing from the web layer, so looking between two
deliveries costs microseconds.

One instance per run of a job, used from one thread (``thread_time`` is per thread).
"""

from __future__ import annotations

import time

# The rest of the process counts as busy while it uses more than this share of a core. An
# idle server finishing its last answer (the access log, closing the connection) stays well
# under it; one publish in flight stays well over.
BUSY_SHARE = 0.2
# How long one look waits while the process is busy.
WINDOW_SECONDS = 0.02


class ProcessLoad:
    def __init__(self, busy_share: float = BUSY_SHARE, window: float = WINDOW_SECONDS) -> None:
        self._busy_share = busy_share
        self._window = window
        self._mark()

    def _mark(self) -> None:
        self._process = time.process_time()
        self._own = time.thread_time()
        self._wall = time.monotonic()

    def others_share(self) -> float:
        """The share of a core the process's other threads used since the last look."""
        process, own, wall = time.process_time(), time.thread_time(), time.monotonic()
        elapsed = wall - self._wall
        used = (process - self._process) - (own - self._own)
        self._process, self._own, self._wall = process, own, wall
        return used / elapsed if elapsed > 0 else 0.0

    def busy(self) -> bool:
        """Whether the other threads were busy since the last look (no waiting)."""
        return self.others_share() > self._busy_share

    def wait_until_quiet(self, until: float) -> None:
        """Return once the rest of the process has been quiet for a window, or at ``until``
        (monotonic seconds) whatever it does: background work is late, never starved."""
        self._mark()
        while time.monotonic() < until:
            time.sleep(min(self._window, max(until - time.monotonic(), 0.0)))
            if not self.busy():
                return

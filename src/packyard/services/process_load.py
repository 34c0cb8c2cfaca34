"""Whether this process is answering requests, so that background work can make way for it.

A background job (the webhook sender) runs in a worker thread of the process that answers
requests; while requests keep the process busy, the CPU the job spends is taken from them
(two worker processes saturate two cores). The front door counts every request in and out
(``RequestActivity``); ``ProcessLoad`` calls the process busy while a request is in flight
or one started since it last looked.

Requests, not CPU: a publishing worker spends much of a request waiting for SQLite's write
lock or the disk's fsync, so its CPU share dips while the machine is saturated (the CPU
measure this replaced let the sender send in the middle of a burst of publishes); and a
server that is not answering anything is idle for the sender's purposes, whatever else the
machine runs (a delivery then leaves milliseconds after its commit).

Reading two integers that the event loop's thread writes needs no lock: each is read
whole, and a stale read only makes the sender wait one window more or less.
"""

from __future__ import annotations

import time

# How long the process must have started no request, with none in flight, to count as quiet.
WINDOW_SECONDS = 0.02


class RequestActivity:
    """The requests this process is answering: counted in and out by the front door (one
    thread, the event loop's), read by background jobs."""

    __slots__ = ("in_flight", "started")

    def __init__(self) -> None:
        self.in_flight = 0
        self.started = 0

    def begin(self) -> None:
        self.in_flight += 1
        self.started += 1

    def end(self) -> None:
        self.in_flight -= 1


class ProcessLoad:
    """One run of a background job's view of ``activity``, used from one thread."""

    def __init__(self, activity: RequestActivity, window: float = WINDOW_SECONDS) -> None:
        self._activity = activity
        self._window = window
        self._seen = activity.started

    def busy(self) -> bool:
        """Whether a request is in flight or one started since the last look."""
        started = self._activity.started
        busy = self._activity.in_flight > 0 or started != self._seen
        self._seen = started
        return busy

    def wait_until_quiet(self, until: float) -> None:
        """Return once the process has answered nothing for a window, or at ``until``
        (monotonic seconds) whatever it does: background work is late, never starved."""
        self.busy()
        while time.monotonic() < until:
            time.sleep(min(self._window, max(until - time.monotonic(), 0.0)))
            if not self.busy():
                return

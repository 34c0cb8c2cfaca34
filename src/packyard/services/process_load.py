"""Whether the server is answering requests, so that background work can make way for it.

A background job (the webhook sender) runs in a worker thread of a process that answers
requests; while requests keep the server busy, the CPU the job spends is taken from them
(two worker processes saturate two cores). The front door counts every request in and out
(``RequestActivity``); ``ServerLoad`` calls the server busy while a request is in flight in
any of its processes or one started since it last looked.

The whole server, not one process: each process's job looks for due deliveries every few
seconds, whichever process wrote them, so a worker that happened to have no request of its
own sent its sibling's deliveries in the middle of the sibling's burst of publishes (a
tenth of the deliveries of a benchmark round went out before the round ended). The
processes of one ``packyard serve`` share a directory (the one prometheus-client's
multi-process mode uses, made by the supervisor): each keeps its two counts in a small
file there, mapped in memory, that the others read. Without that directory (a process
serving alone), the counts stay in this process.

Requests, not CPU: a publishing worker spends much of a request waiting for SQLite's write
lock or the disk's fsync, so its CPU share dips while the machine is saturated (the CPU
measure this replaced let the sender send in the middle of a burst of publishes); and a
server that is not answering anything is idle for the sender's purposes, whatever else the
machine runs (a delivery then leaves milliseconds after its commit).

Reading counts that another thread or process writes needs no lock: each is an aligned
machine word, read whole, and a stale read only makes the sender wait one window more or
less.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

# How long the server must have started no request, with none in flight, to count as quiet.
WINDOW_SECONDS = 0.02
# Each process's counts, in the shared directory: ``activity-<pid>.bin``.
_PREFIX = "activity-"
_SUFFIX = ".bin"
_SIZE = 16  # two signed 64-bit counts: requests started, requests ended
_STARTED, _ENDED = 0, 1


class RequestActivity:
    """The requests this process is answering: counted in and out by the front door (one
    thread, the event loop's), read by background jobs of every process of the server
    (``ServerLoad``) when ``directory`` is the server's shared one."""

    __slots__ = ("_counts", "_map", "directory", "path")

    def __init__(self) -> None:
        self.directory: Path | None = None
        self.path: Path | None = None
        self._map: mmap.mmap | None = None
        self._counts = memoryview(bytearray(_SIZE)).cast("q")

    def share(self, directory: Path | None) -> None:
        """Keep the counts in ``directory``, the server's processes' common one, from now
        on (a serving process, at start-up: command-line processes never count); with
        None, or where no file can be made there, they stay in this process."""
        if directory is None:
            return
        path = directory / f"{_PREFIX}{os.getpid()}{_SUFFIX}"
        try:
            with path.open("w+b") as handle:
                handle.truncate(_SIZE)
                mapped = mmap.mmap(handle.fileno(), _SIZE)
        except OSError:
            log.warning("Could not share this process's request counts in %s", directory)
            return
        counts = memoryview(mapped).cast("q")
        counts[_STARTED], counts[_ENDED] = self._counts[_STARTED], self._counts[_ENDED]
        self.directory, self.path, self._map, self._counts = directory, path, mapped, counts

    # One count each way (in flight is their difference): the front door pays for two
    # increments a request, a few hundred nanoseconds.
    def begin(self) -> None:
        self._counts[_STARTED] += 1

    def end(self) -> None:
        self._counts[_ENDED] += 1

    @property
    def started(self) -> int:
        return int(self._counts[_STARTED])

    @property
    def ended(self) -> int:
        return int(self._counts[_ENDED])

    def close(self) -> None:
        """Leave the server's sum (the process is stopping)."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


class ServerLoad:
    """One run of a background job's view of the server's requests: this process's
    ``activity`` and, through its directory, every other process's. Used from one
    thread."""

    def __init__(self, activity: RequestActivity, window: float = WINDOW_SECONDS) -> None:
        self._activity = activity
        self._window = window
        self._peers: dict[Path, tuple[int, memoryview]] = {}
        self._seen = self._read()[1]

    def busy(self) -> bool:
        """Whether a request is in flight or one started since the last look."""
        in_flight, started = self._read()
        busy = in_flight > 0 or started != self._seen
        self._seen = started
        return busy

    def wait_until_quiet(self, until: float) -> None:
        """Return once the server has answered nothing for a window, or at ``until``
        (monotonic seconds) whatever it does: background work is late, never starved."""
        self.busy()
        while time.monotonic() < until:
            time.sleep(min(self._window, max(until - time.monotonic(), 0.0)))
            if not self.busy():
                return

    def _read(self) -> tuple[int, int]:
        """Requests in flight and requests started, summed over the server's processes."""
        directory = self._activity.directory
        if directory is None:
            started, ended = self._activity.started, self._activity.ended
            return started - ended, started
        started = ended = 0
        for path in self._live_files(directory):
            _pid, counts = self._peers[path]
            started += counts[_STARTED]
            ended += counts[_ENDED]
        return started - ended, started

    def _live_files(self, directory: Path) -> list[Path]:
        """The count files of the server's live processes, mapped once each; a dead
        process's file (a worker killed, replaced by another) is removed."""
        try:
            names = [n for n in os.listdir(directory) if n.startswith(_PREFIX)]
        except OSError:
            names = []
        live = []
        for name in names:
            path = directory / name
            if path not in self._peers:
                mapped = _map_peer(path)
                if mapped is None:
                    continue
                self._peers[path] = mapped
            if _alive(self._peers[path][0]):
                live.append(path)
            else:
                del self._peers[path]
                with contextlib.suppress(OSError):
                    path.unlink()
        for gone in self._peers.keys() - set(live):
            del self._peers[gone]
        return live


def _map_peer(path: Path) -> tuple[int, memoryview] | None:
    """(pid, its counts) of one process's file; None when it is not (yet) a count file."""
    try:
        pid = int(path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX))
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), _SIZE, access=mmap.ACCESS_READ)
    except (ValueError, OSError):
        return None
    return pid, memoryview(mapped).cast("q")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True

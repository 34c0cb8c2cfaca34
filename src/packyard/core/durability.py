"""Making writes survive a power cut: what is flushed before a rename, and the folder after
it (which is how the rename itself becomes durable).

Flushes are waits on the disk, not work: several started at once are committed together
by the filesystem (one journal commit for all of them), so a publish that stores a file
and its metadata waits about as long for both as for one (``flush_all_to_disk``). For the
same reason a wait can overlap work: ``started`` runs a call (a publish storing its blobs)
while the caller goes on (recording the row), and ``Pending.wait`` is where it must be done.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

# Threads start on first use, so a server's workers each get their own after forking.
_WAITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="packyard-flush")
# A pool of its own: what runs there waits on _WAITERS, which must never wait on it.
_STARTED = ThreadPoolExecutor(max_workers=8, thread_name_prefix="packyard-store")


def flush_to_disk(path: Path) -> None:
    """fsync a file's bytes, or a folder's entries."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_in_background(path: Path) -> None:
    """Begin flushing a file's bytes without waiting for it: a later ``flush_to_disk`` of
    the same file then finds less or nothing left to wait for. A file gone meanwhile (moved
    or discarded) is no error: whoever moved it flushed it."""
    _WAITERS.submit(_flush_if_present, path)


def _flush_if_present(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        flush_to_disk(path)


def flush_all_to_disk(paths: Iterable[Path]) -> None:
    """fsync every file or folder in ``paths`` (each once), all at the same time."""
    run_at_once([functools.partial(flush_to_disk, path) for path in dict.fromkeys(paths)])


def run_at_once(calls: Sequence[Callable[[], None]]) -> None:
    """Run ``calls`` concurrently (each one mostly waits: on the disk, on a network store)
    and return once all are done; the first failure is raised after every call ended. The
    first call runs in this thread, so one call costs no hand-off at all."""
    futures = [_WAITERS.submit(call) for call in calls[1:]]
    try:
        if calls:
            calls[0]()
    finally:
        errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:
        raise errors[0]


class Pending:
    """A call running in the background (``started``)."""

    def __init__(self, future: Future[None]) -> None:
        self._future = future

    def wait(self) -> None:
        """Return once the call has returned; raise what it raised."""
        self._future.result()

    def settle(self) -> None:
        """Return once the call has ended, whatever it raised: for a caller that is
        failing already, which must not leave while the call still uses its files."""
        self._future.exception()


def started(call: Callable[[], None]) -> Pending:
    """``call`` running in a background thread; ``wait`` on the answer before relying on
    what it does."""
    return Pending(_STARTED.submit(call))


def done_now(call: Callable[[], None]) -> Pending:
    """``call`` run in this thread, as a ``Pending`` already ended (with its error, if any):
    for work with nothing to wait for, where handing it to another thread would cost more
    (the two threads take turns holding the interpreter) than it saves."""
    future: Future[None] = Future()
    try:
        call()
    except Exception as error:
        future.set_exception(error)
    else:
        future.set_result(None)
    return Pending(future)

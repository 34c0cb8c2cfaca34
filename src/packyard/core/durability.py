"""Making writes survive a power cut: what is flushed before a rename, and the folder after
it (which is how the rename itself becomes durable).

Flushes are waits on the disk, not work: several started at once are committed together
by the filesystem (one journal commit for all of them), so a publish that stores a file
and its metadata waits about as long for both as for one (``flush_all_to_disk``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Threads start on first use, so a server's workers each get their own after forking.
_WAITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="packyard-flush")


def flush_to_disk(path: Path) -> None:
    """fsync a file's bytes, or a folder's entries."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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

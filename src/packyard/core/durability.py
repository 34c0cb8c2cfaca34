"""Making writes survive a power cut: what is flushed before a rename, and the folder after
it (which is how the rename itself becomes durable)."""

from __future__ import annotations

import os
from pathlib import Path


def flush_to_disk(path: Path) -> None:
    """fsync a file's bytes, or a folder's entries."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

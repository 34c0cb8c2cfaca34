"""Consistent copies of the embedded SQLite database, taken while the server writes to it.

SQLite's online backup API copies the database page by page and starts again whenever
another connection writes meanwhile, so the copy is one committed state, never a mix of
two; copying the file (and its WAL) by hand would not be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from packyard.core.durability import flush_to_disk

PAGES_PER_STEP = 1024


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL, or None for another database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def online_backup(source: Path, target: Path) -> None:
    """Copy the database at ``source`` into a new file ``target`` (removed first)."""
    target.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy, pages=PAGES_PER_STEP)
        # One self-contained file: no WAL beside it to forget when copying it away.
        copy.execute("PRAGMA journal_mode=DELETE")
    flush_to_disk(target)


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with the database file (empty: sound)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    return [] if rows == [("ok",)] else [str(row[0]) for row in rows]


def install_copy(copy: Path, target: Path) -> None:
    """Put the database file ``copy`` in place as ``target`` in one rename: a crash leaves
    either the old database or the new one. Its stale WAL and shared-memory files go first,
    or SQLite would replay the old database's last writes into the new one."""
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(copy, partial)
    flush_to_disk(partial)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)
    flush_to_disk(target.parent)

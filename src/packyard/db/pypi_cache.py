"""Queries for the PyPI file cache of composite registries (``pypi_cached_files``): one
row per cached blob with its size and when it was last served, read oldest first by the
pruner (``services.pypi_cache``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from packyard.db.tables import PackageRow, PypiCachedFileRow

_table = cast(Table, PypiCachedFileRow.__table__)


def record_stored(session: Session, key: str, size: int, now: datetime) -> None:
    """The blob ``key`` of ``size`` bytes was just fetched into the cache (or again)."""
    session.merge(PypiCachedFileRow(sha256=key, size=size, last_used_at=now))


def touch(session: Session, uses: Mapping[str, tuple[datetime, int]]) -> None:
    """Move each key's last use forward to its noted (time, size) (never back: several
    processes write their notes in any order); a served blob with no row yet (cached by an
    older version) gets one."""
    if not uses:
        return
    known = set(
        session.scalars(select(PypiCachedFileRow.sha256).where(PypiCachedFileRow.sha256.in_(uses)))
    )
    session.add_all(
        PypiCachedFileRow(sha256=key, size=size, last_used_at=used)
        for key, (used, size) in sorted(uses.items())
        if key not in known
    )
    statement = (
        update(_table)
        .where(_table.c.sha256 == bindparam("key"), _table.c.last_used_at < bindparam("used"))
        .values(last_used_at=bindparam("used"))
    )
    moved = [{"key": k, "used": t} for k, (t, _) in sorted(uses.items()) if k in known]
    if moved:
        session.execute(statement, moved)


def total_bytes(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(PypiCachedFileRow.size), 0))) or 0)


def least_recently_used(session: Session) -> list[tuple[str, int, datetime]]:
    """(key, size, last used) of every cached blob, least recently used first."""
    rows = session.execute(
        select(
            PypiCachedFileRow.sha256, PypiCachedFileRow.size, PypiCachedFileRow.last_used_at
        ).order_by(PypiCachedFileRow.last_used_at, PypiCachedFileRow.sha256)
    ).all()
    return [(key, size, used) for key, size, used in rows]


def forget_if_idle(session: Session, key: str, idle_since: datetime) -> bool:
    """Drop ``key``'s row if it was not used at or after ``idle_since``; whether it was."""
    result = session.execute(
        delete(PypiCachedFileRow).where(
            PypiCachedFileRow.sha256 == key, PypiCachedFileRow.last_used_at < idle_since
        )
    )
    return bool(getattr(result, "rowcount", 0))


def referenced_by_package(session: Session, key: str) -> bool:
    """Whether a published file (or its metadata) has the same bytes: content addressing
    shares the blob, which then stays when the cache lets go of it."""
    as_file = exists().where(PackageRow.sha256 == key)  # indexed
    as_metadata = exists().where(PackageRow.core_metadata_sha256 == key)
    return bool(session.scalar(select(or_(as_file, as_metadata))))

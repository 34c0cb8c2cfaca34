"""Queries of a release's lifecycle: setting and clearing the yank of one file or of every
file of a release (PEP 592). ``yanked_reason`` NULL is not yanked; "" is yanked without a
reason. Callers bump the registry's serial in the same transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from packyard.db.tables import PackageRow


def set_file_yank(session: Session, registry_id: str, package_id: str, reason: str | None) -> bool:
    """Yank (``reason`` a string) or unyank (None) one file; False when there is none."""
    result = session.execute(
        update(PackageRow)
        .where(PackageRow.registry_id == registry_id, PackageRow.id == package_id)
        .values(yanked_reason=reason)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_release_yank(
    session: Session, registry_id: str, project: str, version: str, reason: str | None
) -> list[str]:
    """Yank or unyank every file of ``project`` (normalised) ``version`` (normalised); the
    ids of the files changed, none when the release does not exist."""
    where = (
        PackageRow.registry_id == registry_id,
        PackageRow.project == project,
        PackageRow.version == version,
    )
    ids = list(session.scalars(select(PackageRow.id).where(*where).order_by(PackageRow.seq)))
    if ids:
        session.execute(update(PackageRow).where(*where).values(yanked_reason=reason))
    return ids

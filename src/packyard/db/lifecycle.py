"""Queries of a release's lifecycle: setting and clearing the yank of one file or of every
file of a release (PEP 592; ``yanked_reason`` NULL is not yanked, "" is yanked without a
reason), and a project's status (PEP 792). Callers bump the registry's serial in the same
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from packyard.core.lifecycle import ACTIVE, ProjectState, ProjectStatus
from packyard.db.tables import PackageRow, ProjectStatusRow

_STATUSES = cast(Table, ProjectStatusRow.__table__)
_STATE = select(_STATUSES.c.status, _STATUSES.c.reason).where(
    _STATUSES.c.registry_id == bindparam("registry_id"),
    _STATUSES.c.project == bindparam("project"),
)


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


def project_state(session: Session, registry_id: str, project: str) -> ProjectState | None:
    """The recorded status of ``project`` (normalised); None when there is none (active).
    Every publish asks: a statement built once, reading two columns."""
    row = session.execute(_STATE, {"registry_id": registry_id, "project": project}).first()
    return None if row is None else ProjectState(ProjectStatus(row.status), row.reason)


def set_project_state(
    session: Session, registry_id: str, project: str, state: ProjectState, now: datetime
) -> None:
    """Record ``state``; ``active`` without a reason removes the row (the default)."""
    row = session.get(ProjectStatusRow, (registry_id, project))
    if state == ACTIVE:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ProjectStatusRow(registry_id=registry_id, project=project)
        session.add(row)
    row.status, row.reason, row.updated_at = state.status.value, state.reason, now


def has_project(session: Session, registry_id: str, project: str) -> bool:
    statement = select(PackageRow.id).where(
        PackageRow.registry_id == registry_id, PackageRow.project == project
    )
    return session.scalar(statement.limit(1)) is not None


def quarantined_file(session: Session, registry_id: str, filename: str) -> bool:
    """Whether ``filename`` belongs to a quarantined project of the registry."""
    statement = (
        select(PackageRow.id)
        .join(
            ProjectStatusRow,
            (ProjectStatusRow.registry_id == PackageRow.registry_id)
            & (ProjectStatusRow.project == PackageRow.project),
        )
        .where(
            PackageRow.registry_id == registry_id,
            PackageRow.filename == filename,
            ProjectStatusRow.status == ProjectStatus.QUARANTINED.value,
        )
    )
    return session.scalar(statement) is not None

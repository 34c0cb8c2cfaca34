"""Per-project serials (``project_serials``): the registry serial of the last change to
each project's index page, written by ``db.registries.bump_serial`` in the transaction of
the change, and read in one statement by the process-wide memo of
``services.project_serials``.

A project without a row has serial 0: it has not changed since the table was added.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.orm import Session

from packyard.db.tables import ProjectSerialRow, RegistryRow
from packyard.db.upserts import dialect_insert

_SERIALS = cast(Table, ProjectSerialRow.__table__)


# Built once per engine kind: every publish runs it.
@cache
def _upsert(dialect: str) -> Any:
    insert = dialect_insert(dialect, _SERIALS)
    return insert.on_conflict_do_update(
        index_elements=[_SERIALS.c.registry_id, _SERIALS.c.project],
        set_={"last_serial": insert.excluded.last_serial},
    )


def mark_projects(
    session: Session, registry_id: str, projects: Collection[str], serial: int
) -> None:
    """Record ``serial`` (the registry's serial just bumped) as the last serial of each of
    ``projects`` (normalised). The caller commits, with the change."""
    if not projects:
        return
    session.execute(
        _upsert(session.get_bind().dialect.name),
        [{"registry_id": registry_id, "project": p, "last_serial": serial} for p in projects],
    )


@dataclass(frozen=True, slots=True)
class SerialsSince:
    """The registry's serial now, and the projects whose last serial is above ``since``
    (all of them when it was 0), read in one statement (one snapshot on both engines)."""

    serial: int
    changed: list[tuple[str, int]]


# The registry's serial joined to the projects changed since: one statement, so that no
# commit falls between the two.
_SINCE = (
    select(RegistryRow.serial, ProjectSerialRow.project, ProjectSerialRow.last_serial)
    .outerjoin(
        ProjectSerialRow,
        and_(
            ProjectSerialRow.registry_id == RegistryRow.id,
            ProjectSerialRow.last_serial > bindparam("since"),
        ),
    )
    .where(RegistryRow.id == bindparam("registry_id"))
)


def serials_since(session: Session, registry_id: str, since: int) -> SerialsSince | None:
    """The registry's serial and its projects changed after serial ``since``; None when the
    registry is gone."""
    rows = session.connection().execute(_SINCE, {"registry_id": registry_id, "since": since})
    serial: int | None = None
    changed: list[tuple[str, int]] = []
    for registry_serial, project, last_serial in rows:
        serial = registry_serial
        if project is not None:
            changed.append((project, last_serial))
    return None if serial is None else SerialsSince(serial, changed)

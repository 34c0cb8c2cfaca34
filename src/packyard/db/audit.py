"""Queries on the audit log: appending an entry, and reading an organization's entries
newest first, by keyset pages on ``audit_events.seq`` (which only grows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from packyard.core.events import (
    Actor,
    AuditEntry,
    AuditFilter,
    EventType,
    Origin,
    Subject,
    actor_from_json,
)
from packyard.db.tables import AuditEventRow, TokenRow, UserRow

# Built once, as Core statements: every state change runs the insert, most the lookup of
# their actor's name (building them per call was a tenth of a publish's CPU).
_AUDIT_EVENTS = cast(Table, AuditEventRow.__table__)
_INSERT_RETURNING_SEQ = insert(_AUDIT_EVENTS).returning(_AUDIT_EVENTS.c.seq)
_COLUMNS = tuple(c.key for c in _AUDIT_EVENTS.columns if c.key != "seq")
_TOKEN_DESCRIPTION = select(TokenRow.__table__.c.description).where(
    TokenRow.__table__.c.id == bindparam("id")
)
_USER_EMAIL = select(UserRow.__table__.c.email).where(UserRow.__table__.c.id == bindparam("id"))


def _fields(
    organization_id: str,
    event_type: EventType,
    actor: Actor,
    subject: Subject,
    registry: tuple[str, str] | None,
    origin: Origin,
    changes: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "organization_id": organization_id,
        "type": event_type.value,
        "actor": actor.as_json(),
        "actor_id": actor.id,
        "subject_type": subject.type,
        "subject_id": subject.id,
        "subject_name": subject.name[:500],
        "registry_id": registry[0] if registry else None,
        "registry_slug": registry[1] if registry else None,
        "client_address": origin.address,
        "user_agent": origin.user_agent,
        "changes": changes,
        "occurred_at": now,
    }


def append(
    session: Session,
    organization_id: str,
    event_type: EventType,
    actor: Actor,
    subject: Subject,
    registry: tuple[str, str] | None,
    origin: Origin,
    changes: dict[str, Any],
    now: datetime,
) -> AuditEntry:
    """Add one entry to the organization's log; ``registry`` is (id, slug)."""
    fields = _fields(organization_id, event_type, actor, subject, registry, origin, changes, now)
    seq = session.execute(_INSERT_RETURNING_SEQ, fields).scalar_one()
    return _entry(seq, fields)


def append_many(
    session: Session,
    organization_id: str,
    event_type: EventType,
    actor: Actor,
    registry: tuple[str, str] | None,
    origin: Origin,
    now: datetime,
    entries: Sequence[tuple[Subject, dict[str, Any]]],
) -> None:
    """Add one entry per (subject, changes), in that order, in one statement."""
    if entries:
        session.execute(
            insert(AuditEventRow),
            [
                _fields(organization_id, event_type, actor, subject, registry, origin, c, now)
                for subject, c in entries
            ],
        )


def token_description(session: Session, token_id: str) -> str | None:
    return session.scalar(_TOKEN_DESCRIPTION, {"id": token_id})


def user_email(session: Session, user_id: str) -> str | None:
    return session.scalar(_USER_EMAIL, {"id": user_id})


def entries(
    session: Session,
    organization_id: str,
    wanted: AuditFilter,
    before_seq: int | None,
    limit: int,
) -> list[AuditEntry]:
    """The organization's entries matching ``wanted``, newest first, older than
    ``before_seq`` when given (the cursor), at most ``limit``."""
    query = select(AuditEventRow).where(AuditEventRow.organization_id == organization_id)
    if before_seq is not None:
        query = query.where(AuditEventRow.seq < before_seq)
    if wanted.types:
        query = query.where(AuditEventRow.type.in_(sorted(t.value for t in wanted.types)))
    if wanted.registry_slug is not None:
        query = query.where(AuditEventRow.registry_slug == wanted.registry_slug)
    if wanted.actor_id is not None:
        query = query.where(AuditEventRow.actor_id == wanted.actor_id)
    if wanted.since is not None:
        query = query.where(AuditEventRow.occurred_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEventRow.occurred_at < wanted.until)
    rows = session.scalars(query.order_by(AuditEventRow.seq.desc()).limit(limit))
    return [entry_from_row(row) for row in rows]


def entry_from_row(row: AuditEventRow) -> AuditEntry:
    return _entry(row.seq, {column: getattr(row, column) for column in _COLUMNS})


def _entry(seq: int, values: Mapping[str, Any]) -> AuditEntry:
    """The entry a row holds, from its column values (``_fields``' keys)."""
    return AuditEntry(
        id=values["id"],
        seq=seq,
        organization_id=values["organization_id"],
        type=EventType(values["type"]),
        actor=actor_from_json(values["actor"]),
        subject=Subject(values["subject_type"], values["subject_id"], values["subject_name"]),
        registry_id=values["registry_id"],
        registry_slug=values["registry_slug"],
        origin=Origin(values["client_address"], values["user_agent"]),
        changes={name: (pair[0], pair[1]) for name, pair in (values["changes"] or {}).items()},
        occurred_at=values["occurred_at"],
    )

"""Queries on webhooks and their outbox: subscriptions, enqueuing a delivery in the
transaction of its event, claiming due deliveries (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite the claiming UPDATE takes the write lock first), recording attempts,
and keeping the newest ``KEPT_DELIVERIES`` finished deliveries per hook."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from packyard.core.webhooks import (
    KEPT_DELIVERIES,
    Attempt,
    Delivery,
    DeliveryState,
    Webhook,
    WebhookEvent,
)
from packyard.db.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookRow

# Every publish asks who subscribes (most often nobody): built once, as Core statements.
_HOOKS = cast(Table, WebhookRow.__table__)
_ACTIVE_IN_ORGANIZATION = and_(
    _HOOKS.c.organization_id == bindparam("organization_id"), _HOOKS.c.active.is_(True)
)
_ORGANIZATION_HOOKS = select(_HOOKS.c.id, _HOOKS.c.events).where(
    _ACTIVE_IN_ORGANIZATION, _HOOKS.c.registry_id.is_(None)
)
_DELIVERIES = cast(Table, WebhookDeliveryRow.__table__)
_PENDING_COUNT = (
    select(func.count())
    .select_from(_DELIVERIES)
    .where(_DELIVERIES.c.state == DeliveryState.PENDING.value)
)
_ENQUEUE = insert(_DELIVERIES)
_ORGANIZATION_AND_REGISTRY_HOOKS = select(_HOOKS.c.id, _HOOKS.c.events).where(
    _ACTIVE_IN_ORGANIZATION,
    or_(_HOOKS.c.registry_id.is_(None), _HOOKS.c.registry_id == bindparam("registry_id")),
)


def webhook_from_row(row: WebhookRow) -> Webhook:
    return Webhook(
        id=row.id,
        organization_id=row.organization_id,
        registry_id=row.registry_id,
        url=row.url,
        description=row.description,
        events=frozenset(WebhookEvent(e) for e in row.events),
        active=row.active,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
    )


def add_webhook(
    session: Session,
    organization_id: str,
    registry_id: str | None,
    url: str,
    description: str,
    events: frozenset[WebhookEvent],
    secret: str,
    now: datetime,
) -> Webhook:
    row = WebhookRow(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        registry_id=registry_id,
        url=url,
        description=description,
        events=sorted(e.value for e in events),
        secret=secret,
        active=True,
        disabled_reason=None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return webhook_from_row(row)


def _placed(organization_id: str, registry_id: str | None) -> ColumnElement[bool]:
    """A registry's own hooks, or (None) the organization-wide ones."""
    here = (
        WebhookRow.registry_id.is_(None)
        if registry_id is None
        else WebhookRow.registry_id == registry_id
    )
    return and_(WebhookRow.organization_id == organization_id, here)


def webhook_row(
    session: Session, organization_id: str, registry_id: str | None, webhook_id: str
) -> WebhookRow | None:
    return session.scalar(
        select(WebhookRow).where(WebhookRow.id == webhook_id, _placed(organization_id, registry_id))
    )


def webhooks_of(session: Session, organization_id: str, registry_id: str | None) -> list[Webhook]:
    rows = session.scalars(
        select(WebhookRow)
        .where(_placed(organization_id, registry_id))
        .order_by(WebhookRow.created_at, WebhookRow.id)
    )
    return [webhook_from_row(row) for row in rows]


def subscribers(
    session: Session, organization_id: str, registry_id: str | None, event: WebhookEvent
) -> list[str]:
    """The active hooks that hear ``event`` of the registry: its own, and the
    organization's hooks for every registry."""
    if registry_id is None:
        query, values = _ORGANIZATION_HOOKS, {"organization_id": organization_id}
    else:
        query = _ORGANIZATION_AND_REGISTRY_HOOKS
        values = {"organization_id": organization_id, "registry_id": registry_id}
    rows = session.execute(query, values).all()
    return [hook_id for hook_id, events in rows if event.value in events]


def enqueue(
    session: Session, webhook_id: str, event: WebhookEvent, body: str, now: datetime
) -> str:
    """Add a pending delivery, due now; its id is the message id (``webhook-id``)."""
    delivery_id = str(uuid.uuid4())
    # A Core statement built once: it runs in every publish a hook hears, where the ORM's
    # unit of work cost a publish about as much as the rest of the outbox.
    session.execute(
        _ENQUEUE,
        {
            "id": delivery_id,
            "webhook_id": webhook_id,
            "event": event.value,
            "body": body,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "claim": None,
            "created_at": now,
        },
    )
    return delivery_id


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process is to send now, with what it is sent to and signed with."""

    id: str
    webhook_id: str
    event: str
    body: str
    attempts: int  # including this one
    url: str
    secret: str


def claim_due(
    session: Session, claim: str, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Mark up to ``limit`` due deliveries as this process's (``claim``) until
    ``lease_until`` and return them. Another process neither sees them as due nor, on
    PostgreSQL, waits for them (SKIP LOCKED); on SQLite the UPDATE, which takes the write
    lock, claims only what is still due."""
    due = (
        select(WebhookDeliveryRow.seq)
        .where(
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= now,
        )
        .order_by(WebhookDeliveryRow.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # Read first, write only when something is due: most polls find nothing, and a write
    # (even of no rows) makes every process drop its caches (db.changes: NOTIFY on PostgreSQL).
    seqs = list(session.scalars(due))
    if not seqs:
        return []
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.seq.in_(seqs),
            # Again: on SQLite another process may have claimed them since the read.
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= now,
        )
        .values(
            claim=claim,
            next_attempt_at=lease_until,
            attempts=WebhookDeliveryRow.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(WebhookDeliveryRow, WebhookRow.url, WebhookRow.secret)
        .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
        .where(
            WebhookDeliveryRow.claim == claim,
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
        )
    ).all()
    return [
        Claimed(d.id, d.webhook_id, d.event, d.body, d.attempts, url, secret)
        for d, url, secret in rows
    ]


@dataclass(frozen=True, slots=True)
class Finished:
    """What became of one claimed delivery's attempt: its new state, when it is due again
    (None: never), and why its hook is turned off (410 Gone), if it is."""

    claimed: Claimed
    attempt: Attempt
    state: DeliveryState
    next_attempt_at: datetime | None
    disable_reason: str | None = None


_ATTEMPTS = cast(Table, WebhookAttemptRow.__table__)
# One statement for every delivery of a batch (executemany), guarded by the claim: a
# sender whose claim lapsed records nothing over the state another sender wrote since.
_FINISH = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("delivery_id"), _DELIVERIES.c.claim == bindparam("mine"))
    .values(state=bindparam("new_state"), next_attempt_at=bindparam("due"), claim=None)
)


def finish_attempts(session: Session, claim: str, finished: Sequence[Finished]) -> None:
    """Record a batch's attempts and each delivery's new state, a few statements for the
    whole batch (the sender's CPU and, on SQLite, its hold on the write lock, stay small
    per delivery); hooks answered 410 are turned off. (``prune`` then, once per hook.)"""
    if not finished:
        return
    session.execute(
        insert(_ATTEMPTS),
        [
            {
                "delivery_id": f.claimed.id,
                "number": f.attempt.number,
                "at": f.attempt.at,
                "request_headers": dict(f.attempt.request_headers),
                "status": f.attempt.status,
                "response_headers": dict(f.attempt.response_headers),
                "response_body": f.attempt.response_body,
                "duration_ms": f.attempt.duration_ms,
                "error": f.attempt.error,
            }
            for f in finished
        ],
    )
    session.execute(
        _FINISH,
        [
            {
                "delivery_id": f.claimed.id,
                "mine": claim,
                "new_state": f.state.value,
                "due": f.next_attempt_at,
            }
            for f in finished
        ],
    )
    for f in finished:
        if f.disable_reason is not None:
            session.execute(
                update(WebhookRow)
                .where(WebhookRow.id == f.claimed.webhook_id)
                .values(active=False, disabled_reason=f.disable_reason)
            )


def hand_back(session: Session, claim: str, unsent: Sequence[Claimed], now: datetime) -> None:
    """Give back claimed deliveries this sender did not try (no time left in its claim to
    make an attempt): due now, their attempt not counted."""
    if not unsent:
        return
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.id.in_([c.id for c in unsent]),
            WebhookDeliveryRow.claim == claim,
        )
        .values(claim=None, next_attempt_at=now, attempts=WebhookDeliveryRow.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def pending_count(session: Session) -> int:
    """Deliveries not yet sent or still to be retried, in every organization."""
    return session.scalar(_PENDING_COUNT) or 0


def prune(session: Session, webhook_id: str) -> None:
    """Drop the hook's finished deliveries past the newest ``KEPT_DELIVERIES``."""
    oldest_kept = session.scalar(
        select(WebhookDeliveryRow.seq)
        .where(WebhookDeliveryRow.webhook_id == webhook_id)
        .order_by(WebhookDeliveryRow.seq.desc())
        .offset(KEPT_DELIVERIES - 1)
        .limit(1)
    )
    if oldest_kept is None:
        return
    session.execute(
        delete(WebhookDeliveryRow).where(
            WebhookDeliveryRow.webhook_id == webhook_id,
            WebhookDeliveryRow.seq < oldest_kept,
            WebhookDeliveryRow.state != DeliveryState.PENDING.value,
        )
    )


def deliveries(session: Session, webhook_id: str, limit: int = KEPT_DELIVERIES) -> list[Delivery]:
    """The hook's newest deliveries, newest first, each with its attempts in order."""
    rows = session.scalars(
        select(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.webhook_id == webhook_id)
        .order_by(WebhookDeliveryRow.seq.desc())
        .limit(limit)
    ).all()
    attempts = _attempts(session, [r.id for r in rows])
    return [
        Delivery(
            id=r.id,
            webhook_id=r.webhook_id,
            event=WebhookEvent(r.event),
            body=r.body,
            state=DeliveryState(r.state),
            attempts=attempts.get(r.id, []),
            next_attempt_at=r.next_attempt_at if r.state == DeliveryState.PENDING.value else None,
            created_at=r.created_at,
        )
        for r in rows
    ]


def delivery_body(session: Session, webhook_id: str, delivery_id: str) -> tuple[str, str] | None:
    """(event, body) of one delivery of the hook."""
    found = session.execute(
        select(WebhookDeliveryRow.event, WebhookDeliveryRow.body).where(
            WebhookDeliveryRow.webhook_id == webhook_id, WebhookDeliveryRow.id == delivery_id
        )
    ).first()
    return None if found is None else (found[0], found[1])


def _attempts(session: Session, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
    if not delivery_ids:
        return {}
    rows = session.scalars(
        select(WebhookAttemptRow)
        .where(WebhookAttemptRow.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttemptRow.id)
    )
    found: dict[str, list[Attempt]] = {}
    for row in rows:
        found.setdefault(row.delivery_id, []).append(
            Attempt(
                number=row.number,
                at=row.at,
                request_headers=row.request_headers,
                status=row.status,
                response_headers=row.response_headers,
                response_body=row.response_body,
                duration_ms=row.duration_ms,
                error=row.error,
            )
        )
    return found

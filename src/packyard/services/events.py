"""Recording what changed: the one function every state change calls in its transaction.

``record(session, by, EventType.X, ...)`` appends an audit entry (``core.events``) in the
caller's transaction, so the log cannot disagree with the data: the change and its entry
commit together or not at all. The actor comes from the caller's Principal (a token's
description and a user's email are looked up here); the client address and user agent
from ``core.events.ORIGIN``, which the web layer sets per request. Never pass a secret in
``changes``.

For the events a webhook can hear (``core.webhooks.FROM_AUDIT``), ``record`` also writes
one delivery row per subscribed hook in the same transaction (the outbox), with the body
fixed then; ``services.webhook_delivery`` sends it after the commit, which the session's
``info[ENQUEUED]`` tells the delivery job to look at at once (``bootstrap``).

Other helpers (lifecycle, retention, ...) call ``record`` too; nothing else writes the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from packyard.core.events import (
    ORIGIN,
    Actor,
    AuditEntry,
    Change,
    EventType,
    Subject,
    bare_actor,
    changed_fields,
)
from packyard.core.models import PackageFile, Principal, PrincipalKind, Registry
from packyard.core.webhooks import FROM_AUDIT, WebhookEvent, package_json
from packyard.db import audit as queries
from packyard.db import webhooks as hooks_queries

# Set in a session's ``info`` when it wrote a delivery: after its commit, the delivery job
# is woken (``bootstrap``).
ENQUEUED = "packyard_webhooks_enqueued"


def record(
    session: Session,
    by: Principal | Actor,
    event_type: EventType,
    *,
    organization_id: str,
    subject: Subject,
    now: datetime,
    registry: Registry | None = None,
    changes: Mapping[str, Change] | None = None,
    webhook: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry in ``session``'s transaction and return it; ``webhook`` is
    what a webhook body says of the subject (``{"package": ...}``), for the events hooks
    can hear."""
    actor = by if isinstance(by, Actor) else actor_of(session, by)
    entry = queries.append(
        session,
        organization_id,
        event_type,
        actor,
        subject,
        (registry.id, registry.slug) if registry is not None else None,
        ORIGIN.get(),
        _jsonable(changes or {}),
        now,
    )
    hook_event = FROM_AUDIT.get(event_type)
    if hook_event is not None and webhook is not None:
        body = {"event": hook_event.value, **webhook, "sender": actor.as_json()}
        registry_id = None if registry is None else registry.id
        enqueue_for_subscribers(session, organization_id, registry_id, hook_event, [body], now)
    return entry


def enqueue_for_subscribers(
    session: Session,
    organization_id: str,
    registry_id: str | None,
    event: WebhookEvent,
    bodies: Iterable[Mapping[str, Any]],
    now: datetime,
) -> int:
    """Write a delivery of each of ``bodies`` for each active hook that hears ``event``;
    how many hooks."""
    hooks = hooks_queries.subscribers(session, organization_id, registry_id, event)
    if not hooks:
        return 0
    for body in bodies:
        text = json.dumps(body, separators=(",", ":"))
        for hook_id in hooks:
            hooks_queries.enqueue(session, hook_id, event, text, now)
    session.info[ENQUEUED] = True
    return len(hooks)


def record_package(
    session: Session,
    by: Principal | Actor,
    event_type: EventType,
    registry: Registry,
    package: PackageFile,
    now: datetime,
    changes: Mapping[str, Change] | None = None,
) -> AuditEntry:
    """Record an event about one file of ``registry`` (published, deleted, copied,
    yanked, unyanked); the changes default to the file's identity as "after" (or "before",
    for a deletion)."""
    if changes is None:
        identity = package_identity(package)
        gone = event_type is EventType.PACKAGE_DELETED
        changes = changed_fields(identity if gone else {}, {} if gone else identity)
    return record(
        session,
        by,
        event_type,
        organization_id=registry.organization_id,
        subject=Subject("package", package.id, package.filename),
        registry=registry,
        changes=changes,
        now=now,
        webhook={"package": package_json(package, registry, ORIGIN.get().base_url)},
    )


def record_packages(
    session: Session,
    by: Principal | Actor,
    event_type: EventType,
    registry: Registry,
    packages: Sequence[PackageFile],
    now: datetime,
) -> None:
    """``record_package`` with the default changes for many files of one registry at once
    (a bulk delete, a retention run): the actor and the subscribed hooks are looked up
    once and the entries written in one statement, the same rows as one call per file."""
    if not packages:
        return
    actor = by if isinstance(by, Actor) else actor_of(session, by)
    gone = event_type is EventType.PACKAGE_DELETED
    entries = []
    for package in packages:
        identity = package_identity(package)
        changes = changed_fields(identity if gone else {}, {} if gone else identity)
        entries.append((Subject("package", package.id, package.filename), _jsonable(changes)))
    where = (registry.id, registry.slug)
    origin = ORIGIN.get()
    queries.append_many(
        session, registry.organization_id, event_type, actor, where, origin, now, entries
    )
    hook_event = FROM_AUDIT.get(event_type)
    if hook_event is not None:
        sender = actor.as_json()
        bodies = (  # made only when some hook listens
            {
                "event": hook_event.value,
                "package": package_json(package, registry, origin.base_url),
                "sender": sender,
            }
            for package in packages
        )
        enqueue_for_subscribers(
            session, registry.organization_id, registry.id, hook_event, bodies, now
        )


def package_identity(package: PackageFile) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "filename": package.filename,
        "sha256": package.digests.sha256,
    }


def actor_of(session: Session, principal: Principal) -> Actor:
    """Who ``principal`` is, as the log names them: a token with its description, a user
    with their email, an OIDC identity with its issuer and subject."""
    actor = bare_actor(principal)
    if actor.id is None or principal.kind is PrincipalKind.OIDC:
        return actor
    if principal.token_id is not None:
        name = queries.token_description(session, principal.token_id)
    else:
        name = queries.user_email(session, actor.id)
    return Actor(kind=actor.kind, id=actor.id, name=name)


def _jsonable(changes: Mapping[str, Change]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` with values JSON can hold (sets become sorted lists,
    anything else unknown its text)."""
    return {name: [_plain(before), _plain(after)] for name, (before, after) in changes.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)

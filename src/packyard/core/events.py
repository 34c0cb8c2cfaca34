"""What the audit log records: event types, who acted, from where, on what, and what changed.

Plain data and pure functions only; ``services.events.record`` writes an ``AuditEntry`` in
the transaction of the change it describes (and, for the webhook events, the deliveries).
To add an event: name it in ``EventType`` (Buildkite's name where one exists), call
``record`` in the service's transaction, and document it in docs/events.md.

The request's origin (client address, user agent) is not part of the Principal, which
says who may act and is cached per credential; the web layer sets ``ORIGIN`` for each
request instead, and ``record`` reads it. The command line leaves it unset.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from packyard.core.models import Principal, PrincipalKind, Registry

MAX_USER_AGENT = 500


class EventType(enum.StrEnum):
    ORGANIZATION_CREATED = "ORGANIZATION_CREATED"
    ORGANIZATION_UPDATED = "ORGANIZATION_UPDATED"
    REGISTRY_CREATED = "REGISTRY_CREATED"
    REGISTRY_UPDATED = "REGISTRY_UPDATED"
    REGISTRY_VISIBILITY_CHANGED = "REGISTRY_VISIBILITY_CHANGED"
    REGISTRY_DELETED = "REGISTRY_DELETED"
    REGISTRY_UPSTREAMS_UPDATED = "REGISTRY_UPSTREAMS_UPDATED"
    REGISTRY_OIDC_POLICY_UPDATED = "REGISTRY_OIDC_POLICY_UPDATED"
    REGISTRY_RETENTION_POLICY_UPDATED = "REGISTRY_RETENTION_POLICY_UPDATED"
    REGISTRY_TOKEN_CREATED = "REGISTRY_TOKEN_CREATED"
    REGISTRY_TOKEN_UPDATED = "REGISTRY_TOKEN_UPDATED"
    REGISTRY_TOKEN_DELETED = "REGISTRY_TOKEN_DELETED"
    API_ACCESS_TOKEN_CREATED = "API_ACCESS_TOKEN_CREATED"
    API_ACCESS_TOKEN_DELETED = "API_ACCESS_TOKEN_DELETED"
    TEAM_CREATED = "TEAM_CREATED"
    TEAM_UPDATED = "TEAM_UPDATED"
    TEAM_DELETED = "TEAM_DELETED"
    TEAM_MEMBER_CREATED = "TEAM_MEMBER_CREATED"
    TEAM_MEMBER_UPDATED = "TEAM_MEMBER_UPDATED"
    TEAM_MEMBER_DELETED = "TEAM_MEMBER_DELETED"
    TEAM_REGISTRY_CREATED = "TEAM_REGISTRY_CREATED"
    TEAM_REGISTRY_DELETED = "TEAM_REGISTRY_DELETED"
    PACKAGE_CREATED = "PACKAGE_CREATED"
    PACKAGE_DELETED = "PACKAGE_DELETED"
    PACKAGE_COPIED = "PACKAGE_COPIED"
    PACKAGE_YANKED = "PACKAGE_YANKED"
    PACKAGE_UNYANKED = "PACKAGE_UNYANKED"
    PROJECT_STATUS_CHANGED = "PROJECT_STATUS_CHANGED"
    USER_CREATED = "USER_CREATED"
    USER_SIGNED_IN = "USER_SIGNED_IN"
    USER_SIGN_IN_FAILED = "USER_SIGN_IN_FAILED"
    USER_LOCKED = "USER_LOCKED"
    NOTIFICATION_SERVICE_CREATED = "NOTIFICATION_SERVICE_CREATED"
    NOTIFICATION_SERVICE_UPDATED = "NOTIFICATION_SERVICE_UPDATED"
    NOTIFICATION_SERVICE_DELETED = "NOTIFICATION_SERVICE_DELETED"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from: the client address (a trusted proxy's forwarded one,
    when configured) and the user agent."""

    address: str | None = None
    user_agent: str | None = None
    # The server's public base URL as this request reached it (links in webhook bodies).
    base_url: str | None = None


# Origin is frozen, so sharing the default is safe.
ORIGIN: contextvars.ContextVar[Origin] = contextvars.ContextVar(
    "packyard_origin",
    default=Origin(),  # noqa: B039
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: ``kind`` is a PrincipalKind value (or ``system``); ``id`` the user or
    token id; ``name`` the user's email or the token's description; an OIDC identity
    gives its issuer and subject."""

    kind: str
    id: str | None = None
    name: str | None = None
    issuer: str | None = None
    subject: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in _actor_items(self) if v is not None}


def _actor_items(actor: Actor) -> list[tuple[str, str | None]]:
    return [
        ("kind", actor.kind),
        ("id", actor.id),
        ("name", actor.name),
        ("issuer", actor.issuer),
        ("subject", actor.subject),
    ]


def actor_from_json(value: Mapping[str, Any]) -> Actor:
    return Actor(
        kind=str(value.get("kind", "unknown")),
        id=value.get("id"),
        name=value.get("name"),
        issuer=value.get("issuer"),
        subject=value.get("subject"),
    )


def bare_actor(principal: Principal) -> Actor:
    """The actor ``principal`` names without a lookup (``services.events`` adds a token's
    description and a user's email)."""
    if principal.kind is PrincipalKind.OIDC and principal.publisher is not None:
        claims = dict(principal.publisher.claims)
        return Actor(
            kind=principal.kind.value,
            id=principal.token_id,
            issuer=principal.publisher.issuer,
            subject=claims.get("sub") or claims.get("repository") or claims.get("workflow_ref"),
        )
    if principal.token_id is not None:
        return Actor(kind=principal.kind.value, id=principal.token_id)
    return Actor(kind=principal.kind.value, id=principal.user_id)


@dataclass(frozen=True, slots=True)
class Subject:
    """What the event is about: ``type`` (registry, package, token, team, user, ...), its
    id, and a name a person recognises."""

    type: str
    id: str
    name: str = ""


Change = tuple[Any, Any]  # (before, after)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Change]:
    """The fields whose values differ, as ``{field: (before, after)}``; a field missing on
    one side counts as None there."""
    names = sorted(set(before) | set(after))
    return {
        name: (before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    }


def registry_state(registry: Registry) -> dict[str, Any]:
    """A registry's fields as the audit log compares them."""
    return {
        "name": registry.name,
        "slug": registry.slug,
        "description": registry.description,
        "emoji": registry.emoji,
        "color": registry.color,
        "public": registry.public,
        "type": registry.type.value,
        "quota_bytes": registry.quota_bytes,
    }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded event, as the audit log shows it."""

    id: str
    seq: int
    organization_id: str
    type: EventType
    actor: Actor
    subject: Subject
    registry_id: str | None
    registry_slug: str | None
    origin: Origin
    changes: Mapping[str, Change]
    occurred_at: datetime


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry as REST and ``packyard audit --json`` show it."""
    return {
        "id": entry.id,
        "type": entry.type.value,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor.as_json(),
        "subject": {"type": entry.subject.type, "id": entry.subject.id, "name": entry.subject.name},
        "registry": entry.registry_slug,
        "client_address": entry.origin.address,
        "user_agent": entry.origin.user_agent,
        "changes": {name: [before, after] for name, (before, after) in entry.changes.items()},
    }


def describe_actor(actor: Actor) -> str:
    """The actor in a few words, for people (the CLI, the UI)."""
    if actor.issuer is not None:
        return f"{actor.issuer} {actor.subject or ''}".strip()
    return actor.name or actor.id or actor.kind


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What ``GET .../audit-events`` may narrow by; None means any."""

    types: frozenset[EventType] = field(default_factory=frozenset)
    registry_slug: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def trimmed_user_agent(value: str | None) -> str | None:
    """A user agent as stored: at most ``MAX_USER_AGENT`` characters."""
    return None if value is None else value[:MAX_USER_AGENT]

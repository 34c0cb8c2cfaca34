"""Webhooks, as plain data and pure functions: which audit events a hook hears, what the
request body says, how it is signed, when a failed delivery is tried again, and which
addresses a hook may not reach.

Signatures (docs/events.md): Buildkite's form under Packyard's names,
``X-Packyard-Signature: timestamp=<unix>,signature=<hex HMAC-SHA256(secret, "<t>.<body>")>``
keyed by the secret string as given, and Standard Webhooks' ``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>``
keyed by the base64-decoded part after ``whsec_``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from packyard.core.errors import ValidationFailed
from packyard.core.events import EventType
from packyard.core.models import PackageFile, Registry

SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 1000
KEPT_DELIVERIES = 20  # per hook: the newest finished ones, with their attempts
RESPONSE_BODY_KEPT = 1024  # bytes of a response body kept with an attempt
TIMEOUT_SECONDS = 10.0
# Standard Webhooks' schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
# (about a day and a quarter in all); each wait gets up to 10% of jitter.
RETRY_DELAYS = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.1


class WebhookEvent(enum.StrEnum):
    PACKAGE_CREATED = "package.created"
    PACKAGE_DELETED = "package.deleted"
    PACKAGE_YANKED = "package.yanked"
    PACKAGE_UNYANKED = "package.unyanked"
    REGISTRY_UPDATED = "registry.updated"
    PING = "ping"


# The audit events a hook can subscribe to, under their webhook names. A copy is a new
# package in the destination registry, as a publish is.
FROM_AUDIT: Mapping[EventType, WebhookEvent] = {
    EventType.PACKAGE_CREATED: WebhookEvent.PACKAGE_CREATED,
    EventType.PACKAGE_COPIED: WebhookEvent.PACKAGE_CREATED,
    EventType.PACKAGE_DELETED: WebhookEvent.PACKAGE_DELETED,
    EventType.PACKAGE_YANKED: WebhookEvent.PACKAGE_YANKED,
    EventType.PACKAGE_UNYANKED: WebhookEvent.PACKAGE_UNYANKED,
    EventType.REGISTRY_UPDATED: WebhookEvent.REGISTRY_UPDATED,
}
SUBSCRIBABLE = frozenset(FROM_AUDIT.values())


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # given up: the schedule ran out, or the hook answered 410


@dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription: ``registry_id`` None for an organization-wide hook. The secret is
    never part of this (it is read only to sign)."""

    id: str
    organization_id: str
    registry_id: str | None
    url: str
    description: str
    events: frozenset[WebhookEvent]
    active: bool
    disabled_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    at: datetime
    request_headers: Mapping[str, str]
    status: int | None
    response_headers: Mapping[str, str]
    response_body: str
    duration_ms: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook_id: str
    event: WebhookEvent
    body: str
    state: DeliveryState
    attempts: Sequence[Attempt]
    next_attempt_at: datetime | None
    created_at: datetime


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def checked_secret(secret: str) -> str:
    """A caller's secret, which must be ``whsec_`` and the base64 of 24 to 64 bytes (the
    Standard Webhooks key); raises ValidationFailed."""
    problem = ValidationFailed(
        "A webhook secret is whsec_ followed by the base64 of 24 to 64 random bytes; "
        "leave it out to have one generated",
        ["secret: not whsec_<base64>"],
    )
    if not secret.startswith(SECRET_PREFIX):
        raise problem
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise problem from None
    if not 24 <= len(key) <= 64:
        raise problem
    return secret


def checked_url(url: str) -> str:
    """An http(s) URL with a host; raises ValidationFailed. (Where it points is checked
    against ``refused_address`` when it is resolved.)"""
    parts = urlsplit(url.strip())
    if (
        len(url) > MAX_URL_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in url.strip())
    ):
        raise ValidationFailed(
            "A webhook URL is an http:// or https:// URL with a host name",
            [f"url: {url[:100]!r} is not one"],
        )
    return url.strip()


def checked_events(names: Sequence[str]) -> frozenset[WebhookEvent]:
    """Event names a hook may subscribe to; raises ValidationFailed naming the others."""
    chosen: set[WebhookEvent] = set()
    for name in names:
        try:
            event = WebhookEvent(name)
        except ValueError:
            event = None
        if event is None or event not in SUBSCRIBABLE:
            known = ", ".join(sorted(e.value for e in SUBSCRIBABLE))
            raise ValidationFailed(
                f"Unknown webhook event {name!r}", [f"events: choose among {known}"]
            )
        chosen.add(event)
    if not chosen:
        raise ValidationFailed("A webhook needs at least one event", ["events: empty"])
    return frozenset(chosen)


def refused_address(address: str) -> str | None:
    """Why a hook may not be sent to ``address`` (an IP), or None when it may: loopback,
    link-local (cloud metadata lives there), private, shared, reserved, multicast and
    unspecified addresses are refused (PACKYARD_WEBHOOK_ALLOW_PRIVATE lifts it)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local (cloud metadata)"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip in ipaddress.ip_network("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    )
    for refused, what in checks:
        if refused:
            return f"{address} is a {what} address"
    return None


def retry_delay(attempts_made: int, jitter: float) -> float | None:
    """Seconds to wait before the next attempt after ``attempts_made`` failed ones, or
    None when the schedule is over; ``jitter`` in [0, 1) spreads retries."""
    if attempts_made >= len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempts_made]
    return base * (1 + JITTER * jitter)


def packyard_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Packyard-Signature`` (Buildkite's format), keyed by the secret string."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"timestamp={timestamp},signature={digest}"


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` per Standard Webhooks, keyed by the decoded secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str, message_id: str, event: str, timestamp: int, body: bytes, user_agent: str
) -> dict[str, str]:
    """Every header of a delivery's request."""
    return {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-Packyard-Event": event,
        "X-Packyard-Signature": packyard_signature(secret, timestamp, body),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, message_id, timestamp, body),
    }


def registry_json(registry: Registry, base_url: str | None) -> dict[str, Any]:
    rest = f"/v2/packages/organizations/{registry.organization_slug}/registries/{registry.slug}"
    web = f"/organizations/{registry.organization_slug}/registries/{registry.slug}"
    return {
        "id": registry.id,
        "slug": registry.slug,
        "name": registry.name,
        "url": None if base_url is None else base_url + rest,
        "web_url": None if base_url is None else base_url + web,
    }


def package_json(package: PackageFile, registry: Registry, base_url: str | None) -> dict[str, Any]:
    """Buildkite's ``package`` object, plus what it leaves out (version, filename, digests,
    created_at)."""
    where = registry_json(registry, base_url)
    digests = package.digests
    return {
        "id": package.id,
        "url": None if where["url"] is None else f"{where['url']}/packages/{package.id}",
        "web_url": None
        if where["web_url"] is None
        else f"{where['web_url']}/packages/{package.id}",
        "name": package.name,
        "version": package.version,
        "filename": package.filename,
        "size": package.size,
        "digests": {
            "md5": digests.md5,
            "sha1": digests.sha1,
            "sha256": digests.sha256,
            "sha512": digests.sha512,
            "blake2b_256": digests.blake2b_256,
        },
        "yanked_reason": package.yanked_reason,
        "created_at": package.created_at.isoformat(),
        "organization": {"id": registry.organization_id, "slug": registry.organization_slug},
        "registry": where,
    }


def webhook_json(hook: Webhook) -> dict[str, Any]:
    """A hook as REST and ``packyard webhooks --json`` show it (never its secret)."""
    return {
        "id": hook.id,
        "url": hook.url,
        "events": sorted(e.value for e in hook.events),
        "description": hook.description,
        "active": hook.active,
        "disabled_reason": hook.disabled_reason,
        "created_at": hook.created_at.isoformat(),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """A delivery with every attempt, as REST and ``packyard webhooks deliveries --json``
    show it."""
    return {
        "id": delivery.id,
        "event": delivery.event.value,
        "state": delivery.state.value,
        "body": delivery.body,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": None
        if delivery.next_attempt_at is None
        else delivery.next_attempt_at.isoformat(),
        "attempts": [
            {
                "number": a.number,
                "at": a.at.isoformat(),
                "request_headers": dict(a.request_headers),
                "status": a.status,
                "response_headers": dict(a.response_headers),
                "response_body": a.response_body,
                "duration_ms": a.duration_ms,
                "error": a.error,
            }
            for a in delivery.attempts
        ],
    }

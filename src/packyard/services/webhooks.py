"""Webhooks of a registry, or of a whole organization: create, list, get, change, delete,
ping, their deliveries and redelivery. One method per use case for REST, the web UI and the
command line alike. A registry's hooks need ``write_registries`` on the registry (a hook's
URL and history are its admins'); an organization-wide hook (``registry_slug`` None) hears
every registry of the organization, private ones included, so it is for organization
admins and organization tokens holding ``write_registries`` only (``require_admin``).

A secret is given (``whsec_`` + base64) or generated, and shown once, in the answer to
create; it is never shown again nor written to the audit log. Changes are audited as
``NOTIFICATION_SERVICE_*`` (Buildkite's names). Deliveries are sent by
``services.webhook_delivery``; this module only writes them (the outbox).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Principal, Registry
from packyard.core.names import looks_like_id
from packyard.core.permissions import Disclosure, require_admin
from packyard.core.scopes import Scope
from packyard.core.webhooks import (
    MAX_DESCRIPTION_LENGTH,
    Delivery,
    Webhook,
    WebhookEvent,
    checked_events,
    checked_secret,
    checked_url,
    new_secret,
)
from packyard.db import webhooks as queries
from packyard.db.tables import WebhookRow
from packyard.services.events import ENQUEUED, actor_of, record
from packyard.services.registries import RegistryService
from packyard.services.webhook_addresses import destination_problem


@dataclass(frozen=True, slots=True)
class NewWebhook:
    webhook: Webhook
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What PATCH changes; None leaves a field as it is."""

    url: str | None = None
    events: Sequence[str] | None = None
    description: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class _Where:
    """A registry's hooks, or (``registry`` None) the organization's own."""

    organization_id: str
    registry: Registry | None

    @property
    def registry_id(self) -> str | None:
        return None if self.registry is None else self.registry.id


class WebhookService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
        *,
        allow_private: bool,
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now
        self._allow_private = allow_private

    def create(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        url: str,
        events: Sequence[str],
        description: str = "",
        secret: str | None = None,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> NewWebhook:
        """Subscribe ``url`` to ``events`` of the registry. Raises ValidationFailed for a
        bad URL, event or secret, or a URL that resolves to a refused address."""
        where = self._where(principal, organization, registry_slug, disclosure)
        chosen = checked_events(events)
        target = self._checked_destination(url)
        key = new_secret() if secret is None else checked_secret(secret)
        with self._sessions.begin() as session:
            hook = queries.add_webhook(
                session,
                where.organization_id,
                where.registry_id,
                target,
                _description(description),
                chosen,
                key,
                self._now(),
            )
            self._record(
                session, principal, EventType.NOTIFICATION_SERVICE_CREATED, where, hook, None
            )
        return NewWebhook(hook, key)

    def webhooks(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[Webhook]:
        """The registry's own hooks (not the organization's), or the organization-wide
        ones, oldest first."""
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions() as session:
            return queries.webhooks_of(session, where.organization_id, where.registry_id)

    def webhook(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Webhook:
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions() as session:
            return queries.webhook_from_row(_row(session, where, webhook_id))

    def change(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        change: WebhookChange,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Webhook:
        """Change the fields given; ``active=True`` turns a hook disabled by 410 back on."""
        where = self._where(principal, organization, registry_slug, disclosure)
        url = None if change.url is None else self._checked_destination(change.url)
        events = None if change.events is None else checked_events(change.events)
        with self._sessions.begin() as session:
            row = _row(session, where, webhook_id)
            before = queries.webhook_from_row(row)
            if url is not None:
                row.url = url
            if events is not None:
                row.events = sorted(e.value for e in events)
            if change.description is not None:
                row.description = _description(change.description)
            if change.active is not None:
                row.active = change.active
                row.disabled_reason = None if change.active else row.disabled_reason
            session.flush()
            after = queries.webhook_from_row(row)
            self._record(
                session, principal, EventType.NOTIFICATION_SERVICE_UPDATED, where, after, before
            )
            return after

    def delete(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> None:
        """Delete the hook with its deliveries; pending ones are not sent."""
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions.begin() as session:
            row = _row(session, where, webhook_id)
            hook = queries.webhook_from_row(row)
            session.delete(row)
            self._record(
                session, principal, EventType.NOTIFICATION_SERVICE_DELETED, where, None, hook
            )

    def ping(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> str:
        """Queue a ``ping`` to the hook; the delivery's id."""
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions.begin() as session:
            row = _row(session, where, webhook_id)
            body = {
                "event": WebhookEvent.PING.value,
                "webhook": {"id": row.id, "url": row.url, "events": row.events},
                "sender": actor_of(session, principal).as_json(),
            }
            return self._enqueue(session, row.id, WebhookEvent.PING, json.dumps(body))

    def deliveries(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[Delivery]:
        """The hook's newest deliveries (at most 20), newest first, with every attempt."""
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions() as session:
            row = _row(session, where, webhook_id)
            return queries.deliveries(session, row.id)

    def redeliver(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str | None,
        webhook_id: str,
        delivery_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> str:
        """Queue the same body again, as a new delivery; its id."""
        where = self._where(principal, organization, registry_slug, disclosure)
        with self._sessions.begin() as session:
            row = _row(session, where, webhook_id)
            found = queries.delivery_body(session, row.id, delivery_id)
            if found is None or not looks_like_id(delivery_id):
                raise NotFound(f"No delivery {delivery_id!r} of webhook {webhook_id!r}")
            event, body = found
            return self._enqueue(session, row.id, WebhookEvent(event), body)

    def _enqueue(self, session: Session, hook_id: str, event: WebhookEvent, body: str) -> str:
        delivery_id = queries.enqueue(session, hook_id, event, body, self._now())
        session.info[ENQUEUED] = True
        return delivery_id

    def _where(
        self, principal: Principal, organization: str, slug: str | None, disclosure: Disclosure
    ) -> _Where:
        """Where the hooks live, once the caller may manage them there."""
        if slug is not None:
            registry = self._registries.registry_for(
                principal, organization, slug, Scope.WRITE_REGISTRIES, disclosure
            )
            return _Where(registry.organization_id, registry)
        found = self._registries.organization_for(
            principal, organization, Scope.READ_REGISTRIES, disclosure
        )
        require_admin(principal, Scope.WRITE_REGISTRIES, found.id, found.slug)
        return _Where(found.id, None)

    def _checked_destination(self, url: str) -> str:
        target = checked_url(url)
        problem = destination_problem(target, self._allow_private)
        if problem is not None:
            raise ValidationFailed(f"Webhook URL refused: {problem}", [f"url: {problem}"])
        return target

    def _record(
        self,
        session: Session,
        principal: Principal,
        event_type: EventType,
        where: _Where,
        after: Webhook | None,
        before: Webhook | None,
    ) -> None:
        shown = after or before
        if shown is None:
            return
        record(
            session,
            principal,
            event_type,
            organization_id=where.organization_id,
            subject=Subject("webhook", shown.id, shown.url),
            registry=where.registry,
            changes=changed_fields(
                {} if before is None else _state(before), {} if after is None else _state(after)
            ),
            now=self._now(),
        )


def _state(hook: Webhook) -> dict[str, Any]:
    """A hook as the audit log compares it: never its secret."""
    return {
        "url": hook.url,
        "events": sorted(e.value for e in hook.events),
        "description": hook.description,
        "active": hook.active,
    }


def _description(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH or "\x00" in cleaned:
        raise ValidationFailed(
            f"A description is at most {MAX_DESCRIPTION_LENGTH} characters, without NUL"
        )
    return cleaned


def _row(session: Session, where: _Where, webhook_id: str) -> WebhookRow:
    row = (
        queries.webhook_row(session, where.organization_id, where.registry_id, webhook_id)
        if looks_like_id(webhook_id)
        else None
    )
    if row is None:
        place = (
            "the organization" if where.registry is None else f"registry {where.registry.slug!r}"
        )
        raise NotFound(f"No webhook {webhook_id!r} in {place}")
    return row

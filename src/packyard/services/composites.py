"""Composite registries: creating them, their ordered upstream lists and their settings.

What a composite serves is decided by ``core.composite`` (pure) and built by
``services.composite_index``; this module only stores and validates configuration. Every
change bumps the composite's serial, so rendered pages keyed by it are never stale.

An upstream is named by the slug of a source registry of the composite's organization (or
``ORG/SLUG``, refused unless ORG is the composite's own), or ``pypi``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.composite import (
    PYPI,
    CompositeSettings,
    CompositeSpec,
    PypiFiles,
    Upstream,
    edit_upstreams,
    normalized_names,
    parse_duration,
    settings_fields,
)
from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Principal, Registry, RegistryType
from packyard.core.names import slugify
from packyard.core.permissions import Disclosure, require
from packyard.core.registries import RegistryFields, check
from packyard.core.scopes import Scope
from packyard.core.simple_api import PYPI_UPSTREAM
from packyard.db import composites as queries
from packyard.db.composites import settings_from
from packyard.db.members import grant_on_create
from packyard.db.registries import add_registry, bump_serial
from packyard.services.events import record
from packyard.services.registries import (
    ensure_private,
    record_registry_created,
    slug_taken,
)
from packyard.services.scoped import ScopedService

MAX_UPSTREAMS = 50

__all__ = ["CompositeService", "CompositeSpec", "require_composite", "settings_from"]


class Unchanged(enum.Enum):
    """Marks a setting that ``update_settings`` leaves as it is (None means "clear")."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


class CompositeService(ScopedService):
    def create(
        self,
        principal: Principal,
        organization_slug: str,
        spec: CompositeSpec,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """Create a composite registry (always private) over ``spec.upstreams``, in order
        (``write_registries``).

        Raises ValidationFailed (422) for a taken slug, an unacceptable upstream or
        setting, or a public composite.
        """
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.WRITE_REGISTRIES, disclosure
        )
        fields = check(spec.fields)
        ensure_private(RegistryType.COMPOSITE, bool(fields.public))
        settings = _settings_values(
            spec.public_overrides, spec.pypi_files, spec.min_release_age, spec.cooldown_exempt
        )
        try:
            with self._sessions.begin() as session:
                registry = add_registry(
                    session, organization, fields, RegistryType.COMPOSITE, self._now()
                )
                resolved = _resolve_upstreams(session, registry, spec.upstreams)
                queries.add_settings(session, registry.id, settings)
                queries.replace_upstreams(session, registry.id, resolved)
                # Like a source registry: its creator's teams may read and write it.
                grant_on_create(
                    session, organization.id, registry.id, (), principal.user_id, self._now()
                )
                record_registry_created(session, principal, registry, self._now())
                _record_settings(session, principal, registry, None, self._now())
        except IntegrityError:
            raise slug_taken(slugify(fields.name or ""), organization.slug) from None
        return registry

    def update(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        fields: RegistryFields,
        settings: dict[str, Any],
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """Update a registry's own fields and, for a composite, the ``settings`` given
        (``update_settings`` keywords); settings on a source registry are refused (400)
        before anything changes."""
        if settings:
            registry = self._registries.registry_for(
                principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, disclosure
            )
            require_composite(registry)
        changed = self._registries.update(
            principal, organization_slug, registry_slug, fields, disclosure
        )
        if settings:
            self.update_settings(changed, principal, **settings)
        return changed

    def change_upstreams(
        self, principal: Principal, registry: Registry, action: str, slug: str
    ) -> CompositeSettings:
        """Apply one edit of the Upstreams tab (``core.composite.edit_upstreams``); needs
        ``write_registries`` on the composite."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        current = [upstream.slug for upstream in self.settings(registry).upstreams]
        return self.set_upstreams(registry, edit_upstreams(current, action, slug), principal)

    def settings(self, registry: Registry) -> CompositeSettings:
        """The upstreams (with their current serials) and policy of a composite.

        Raises InvalidRequest for a source registry.
        """
        require_composite(registry)
        with self._sessions() as session:
            return queries.load_settings(session, registry.id)

    def set_upstreams(
        self, registry: Registry, upstreams: Sequence[str], by: Principal
    ) -> CompositeSettings:
        """Replace the ordered upstream list; raises ValidationFailed (422) for a bad one.
        ``by`` is the caller, already allowed ``write_registries`` on the composite."""
        require_composite(registry)
        with self._sessions.begin() as session:
            before = queries.load_settings(session, registry.id)
            resolved = _resolve_upstreams(session, registry, upstreams)
            queries.replace_upstreams(session, registry.id, resolved)
            bump_serial(session, registry.id)
            _record_settings(session, by, registry, before, self._now())
        return self.settings(registry)

    def update_settings(
        self,
        registry: Registry,
        by: Principal,
        *,
        public_overrides: Sequence[str] | Unchanged = UNCHANGED,
        pypi_files: str | Unchanged = UNCHANGED,
        min_release_age: int | str | Unchanged | None = UNCHANGED,
        cooldown_exempt: Sequence[str] | Unchanged = UNCHANGED,
    ) -> CompositeSettings:
        """Change the given settings; ``min_release_age=None`` clears the cooldown.

        ``min_release_age`` takes seconds or a text such as "7 days". Raises
        InvalidRequest for a source registry and ValidationFailed for a bad value.
        """
        require_composite(registry)
        values: dict[str, Any] = {}
        if not isinstance(public_overrides, Unchanged):
            values["public_overrides"] = normalized_names(public_overrides)
        if not isinstance(pypi_files, Unchanged):
            values["pypi_files"] = _pypi_files(pypi_files).value
        if not isinstance(min_release_age, Unchanged):
            values["min_release_age"] = parse_duration(min_release_age)
        if not isinstance(cooldown_exempt, Unchanged):
            values["cooldown_exempt"] = normalized_names(cooldown_exempt)
        if values:
            with self._sessions.begin() as session:
                before = queries.load_settings(session, registry.id)
                queries.change_settings(session, registry.id, values)
                bump_serial(session, registry.id)
                _record_settings(session, by, registry, before, self._now())
        return self.settings(registry)


def _record_settings(
    session: Session,
    by: Principal,
    registry: Registry,
    before: CompositeSettings | None,
    now: datetime,
) -> None:
    """REGISTRY_UPSTREAMS_UPDATED with the upstreams and settings that changed."""
    session.flush()
    after = settings_fields(queries.load_settings(session, registry.id))
    changes = changed_fields({} if before is None else settings_fields(before), after)
    if changes:
        record(
            session,
            by,
            EventType.REGISTRY_UPSTREAMS_UPDATED,
            organization_id=registry.organization_id,
            subject=Subject("registry", registry.id, registry.slug),
            registry=registry,
            changes=changes,
            now=now,
        )


def require_composite(registry: Registry) -> None:
    if registry.type is not RegistryType.COMPOSITE:
        raise InvalidRequest(
            f"{registry.slug!r} is a source registry; only composite registries have upstreams"
        )


def source_upstream_slugs(sessions: sessionmaker[Session], composite_id: str) -> list[str]:
    """The slugs of a composite's source registries, in order (for messages)."""
    with sessions() as session:
        return [u.slug for u in queries.load_settings(session, composite_id).source_upstreams]


def _pypi_files(value: str) -> PypiFiles:
    try:
        return PypiFiles(value)
    except ValueError:
        raise ValidationFailed(
            f"pypi_files must be 'link' or 'cache', not {value!r}", ["pypi_files: link or cache"]
        ) from None


def _settings_values(
    public_overrides: Sequence[str],
    pypi_files: str,
    min_release_age: int | str | None,
    cooldown_exempt: Sequence[str],
) -> dict[str, Any]:
    return {
        "public_overrides": normalized_names(public_overrides),
        "pypi_files": _pypi_files(pypi_files).value,
        "min_release_age": parse_duration(min_release_age),
        "cooldown_exempt": normalized_names(cooldown_exempt),
    }


def _resolve_upstreams(
    session: Session, composite: Registry, specs: Sequence[str]
) -> list[Upstream]:
    """Validate upstream names and look them up; raises ValidationFailed naming each problem."""
    if not specs:
        raise ValidationFailed("A composite registry needs at least one upstream")
    if len(specs) > MAX_UPSTREAMS:
        raise ValidationFailed(f"A composite registry may have at most {MAX_UPSTREAMS} upstreams")
    problems: list[str] = []
    resolved: list[Upstream] = []
    for spec in specs:
        found = _resolve_one(session, composite, spec.strip(), problems)
        if found is None:
            continue
        if found in resolved:
            problems.append(f"{spec!r} is listed twice")
            continue
        resolved.append(found)
    if problems:
        raise ValidationFailed("Invalid upstreams: " + "; ".join(problems), problems)
    return resolved


def _resolve_one(
    session: Session, composite: Registry, spec: str, problems: list[str]
) -> Upstream | None:
    if spec.lower() == PYPI_UPSTREAM:
        return PYPI
    organization, _, slug = spec.rpartition("/")
    if organization and organization != composite.organization_slug:
        problems.append(f"{spec!r} belongs to another organization")
        return None
    if slug == composite.slug:
        problems.append(f"{spec!r} is this composite itself")
        return None
    found = queries.registry_in(session, composite, slug)
    if found is None:
        problems.append(f"no registry {slug!r} in organization {composite.organization_slug!r}")
    elif found.type is not RegistryType.SOURCE:
        problems.append(f"{slug!r} is a composite registry; only source registries are upstreams")
    elif found.ecosystem != composite.ecosystem:
        problems.append(f"{slug!r} is a {found.ecosystem} registry, not {composite.ecosystem}")
    else:
        return Upstream(found.slug, found.id, found.serial)
    return None

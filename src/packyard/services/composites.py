"""Composite registries: creating them, their ordered upstream lists and their settings.

What a composite serves is decided by ``core.composite`` (pure) and built by
``services.composite_index``; this module only stores and validates configuration. Every
change bumps the composite's serial, so rendered pages keyed by it are never stale.

An upstream is named by the slug of a source registry of the composite's organization (or
``ORG/SLUG``, refused unless ORG is the composite's own), or ``pypi``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.composite import (
    PYPI,
    CompositePolicy,
    CompositeSettings,
    PypiFiles,
    Upstream,
    edit_upstreams,
    normalized_names,
    parse_duration,
)
from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.core.models import Organization, Principal, Registry, RegistryType
from packyard.core.names import slugify
from packyard.core.permissions import Disclosure, require, require_in_organization
from packyard.core.scopes import Scope
from packyard.core.simple_api import PYPI_UPSTREAM
from packyard.db.models import (
    CompositeSettingsRow,
    CompositeUpstreamRow,
    RegistryRow,
)
from packyard.services.registries import RegistryFields, RegistryService
from packyard.services.rows import new_registry_row, registry_from_row, slug_taken

MAX_UPSTREAMS = 50


class Unchanged(enum.Enum):
    """Marks a setting that ``update_settings`` leaves as it is (None means "clear")."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


class CompositeService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now

    def create_composite(
        self,
        organization_slug: str,
        name: str,
        upstreams: Sequence[str],
        *,
        description: str = "",
        emoji: str | None = None,
        color: str | None = None,
        public: bool = False,
        public_overrides: Sequence[str] = (),
        pypi_files: str = PypiFiles.LINK.value,
        min_release_age: int | str | None = None,
        cooldown_exempt: Sequence[str] = (),
    ) -> Registry:
        """Create a composite registry (always private) over ``upstreams``, in order.

        Raises NotFound for an unknown organization and ValidationFailed (422) for a taken
        slug, an unacceptable upstream or setting, or ``public=True``.
        """
        ensure_private(RegistryType.COMPOSITE, public)
        slug = slugify(name)
        organization = self._registries.get_organization(organization_slug)
        settings_row = _settings_row(
            "", public_overrides, pypi_files, min_release_age, cooldown_exempt
        )
        row = new_registry_row(
            organization.id,
            slug,
            name,
            RegistryType.COMPOSITE,
            self._now(),
            public=False,
            description=description,
            emoji=emoji,
            color=color,
        )
        registry = registry_from_row(row, organization.slug)
        try:
            with self._sessions.begin() as session:
                resolved = _resolve_upstreams(session, registry, upstreams)
                session.add(row)
                session.flush()
                settings_row.registry_id = row.id
                session.add(settings_row)
                _store_upstreams(session, row.id, resolved)
        except IntegrityError:
            raise slug_taken(slug, organization_slug) from None
        return registry

    def api_create(
        self,
        principal: Principal,
        organization_slug: str,
        name: str,
        upstreams: Sequence[str],
        **options: Any,
    ) -> Registry:
        """``create_composite`` for the REST API: the caller needs ``write_registries``."""
        self._registries.organization_for(
            principal, organization_slug, Scope.WRITE_REGISTRIES, Disclosure.API
        )
        return self.create_composite(organization_slug, name, upstreams, **options)

    def api_update(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        fields: RegistryFields,
        settings: dict[str, Any],
    ) -> Registry:
        """Update a registry's own fields and, for a composite, the ``settings`` given
        (``update_settings`` keywords); settings on a source registry are refused (400)
        before anything changes."""
        registry = self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, Disclosure.API
        )
        if settings:
            require_composite(registry)
        changed = self._registries.api_update_registry(
            principal, organization_slug, registry_slug, fields
        )
        if settings:
            self.update_settings(changed, **settings)
        return changed

    def create_by(
        self,
        principal: Principal,
        organization: Organization,
        name: str,
        upstreams: Sequence[str],
        **options: Any,
    ) -> Registry:
        """``create_composite`` for a signed-in user or token holding ``write_registries``
        in the organization (the web UI's New registry form)."""
        require_in_organization(
            principal,
            Scope.WRITE_REGISTRIES,
            organization.id,
            organization.slug,
            Disclosure.INSTALLER,
        )
        return self.create_composite(organization.slug, name, upstreams, **options)

    def change_upstreams(
        self, principal: Principal, registry: Registry, action: str, slug: str
    ) -> CompositeSettings:
        """Apply one edit of the Upstreams tab (``core.composite.edit_upstreams``); needs
        ``write_registries`` on the composite."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        current = [upstream.slug for upstream in self.settings(registry).upstreams]
        return self.set_upstreams(registry, edit_upstreams(current, action, slug))

    def settings(self, registry: Registry) -> CompositeSettings:
        """The upstreams (with their current serials) and policy of a composite.

        Raises InvalidRequest for a source registry.
        """
        require_composite(registry)
        with self._sessions() as session:
            return _load_settings(session, registry.id)

    def set_upstreams(self, registry: Registry, upstreams: Sequence[str]) -> CompositeSettings:
        """Replace the ordered upstream list; raises ValidationFailed (422) for a bad one."""
        require_composite(registry)
        with self._sessions.begin() as session:
            resolved = _resolve_upstreams(session, registry, upstreams)
            session.execute(
                delete(CompositeUpstreamRow).where(CompositeUpstreamRow.composite_id == registry.id)
            )
            _store_upstreams(session, registry.id, resolved)
            _bump_serial(session, registry.id)
        return self.settings(registry)

    def update_settings(
        self,
        registry: Registry,
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
                session.execute(
                    update(CompositeSettingsRow)
                    .where(CompositeSettingsRow.registry_id == registry.id)
                    .values(**values)
                )
                _bump_serial(session, registry.id)
        return self.settings(registry)


def ensure_private(registry_type: RegistryType, public: bool) -> None:
    """Raise ValidationFailed when asked to make a composite public: it would serve its
    private upstreams to anyone."""
    if registry_type is RegistryType.COMPOSITE and public:
        raise ValidationFailed(
            "A composite registry is always private: it serves its private upstreams",
            ["public: a composite registry cannot be public"],
        )


def require_composite(registry: Registry) -> None:
    if registry.type is not RegistryType.COMPOSITE:
        raise InvalidRequest(
            f"{registry.slug!r} is a source registry; only composite registries have upstreams"
        )


def source_upstream_slugs(sessions: sessionmaker[Session], composite_id: str) -> list[str]:
    """The slugs of a composite's source registries, in order (for messages)."""
    with sessions() as session:
        return [u.slug for u in _load_settings(session, composite_id).source_upstreams]


def _pypi_files(value: str) -> PypiFiles:
    try:
        return PypiFiles(value)
    except ValueError:
        raise ValidationFailed(
            f"pypi_files must be 'link' or 'cache', not {value!r}", ["pypi_files: link or cache"]
        ) from None


def _settings_row(
    registry_id: str,
    public_overrides: Sequence[str],
    pypi_files: str,
    min_release_age: int | str | None,
    cooldown_exempt: Sequence[str],
) -> CompositeSettingsRow:
    return CompositeSettingsRow(
        registry_id=registry_id,
        public_overrides=normalized_names(public_overrides),
        pypi_files=_pypi_files(pypi_files).value,
        min_release_age=parse_duration(min_release_age),
        cooldown_exempt=normalized_names(cooldown_exempt),
    )


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
    row = session.scalar(
        select(RegistryRow).where(
            RegistryRow.organization_id == composite.organization_id, RegistryRow.slug == slug
        )
    )
    if row is None:
        problems.append(f"no registry {slug!r} in organization {composite.organization_slug!r}")
    elif row.type != RegistryType.SOURCE.value:
        problems.append(f"{slug!r} is a composite registry; only source registries are upstreams")
    elif row.ecosystem != composite.ecosystem:
        problems.append(f"{slug!r} is a {row.ecosystem} registry, not {composite.ecosystem}")
    else:
        return Upstream(row.slug, row.id, row.serial)
    return None


def _store_upstreams(session: Session, composite_id: str, upstreams: list[Upstream]) -> None:
    for position, upstream in enumerate(upstreams):
        session.add(
            CompositeUpstreamRow(
                composite_id=composite_id, position=position, upstream_id=upstream.registry_id
            )
        )


def _bump_serial(session: Session, registry_id: str) -> None:
    session.execute(
        update(RegistryRow)
        .where(RegistryRow.id == registry_id)
        .values(serial=RegistryRow.serial + 1)
    )


def _load_settings(session: Session, composite_id: str) -> CompositeSettings:
    rows = session.execute(
        select(CompositeUpstreamRow.upstream_id, RegistryRow.slug, RegistryRow.serial)
        .outerjoin(RegistryRow, RegistryRow.id == CompositeUpstreamRow.upstream_id)
        .where(CompositeUpstreamRow.composite_id == composite_id)
        .order_by(CompositeUpstreamRow.position)
    ).all()
    upstreams = [
        PYPI if upstream_id is None else Upstream(slug, upstream_id, serial)
        for upstream_id, slug, serial in rows
    ]
    return settings_from(upstreams, session.get(CompositeSettingsRow, composite_id))


def settings_from(
    upstreams: list[Upstream], settings: CompositeSettingsRow | None
) -> CompositeSettings:
    """A composite's settings from its upstreams, in order, and its settings row."""
    if settings is None:
        return CompositeSettings(upstreams)
    age = settings.min_release_age
    policy = CompositePolicy(
        public_overrides=frozenset(settings.public_overrides),
        min_release_age=None if age is None else timedelta(seconds=age),
        cooldown_exempt=frozenset(settings.cooldown_exempt),
        pypi_files=PypiFiles(settings.pypi_files),
    )
    return CompositeSettings(upstreams, policy)

"""Queries on organizations and registries, and the serial every cache rests on.

``bump_serial`` is the one place a registry's serial changes: whatever changes what a
registry's index shows (a publish, a delete, a copy, a composite's upstreams or settings,
its visibility) calls it in the same transaction, naming the projects whose pages change,
and cached pages keyed by the serial (a project's page: by its project's serial) are never
served stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from packyard.core.models import Organization, Registry, RegistryType
from packyard.core.names import slugify
from packyard.core.registries import PYTHON_ECOSYSTEM, QUOTA, RegistryFields
from packyard.db.project_serials import mark_projects
from packyard.db.tables import OrganizationRow, PackageRow, RegistryRow, TokenRow

_REGISTRIES = cast(Table, RegistryRow.__table__)
# Built once: publishing runs it, and building the statement each time cost as much as
# running it.
_BUMP_SERIAL = (
    update(_REGISTRIES)
    .where(_REGISTRIES.c.id == bindparam("registry_id"))
    .values(serial=_REGISTRIES.c.serial + 1)
    .returning(_REGISTRIES.c.serial)
)
_ORGANIZATIONS = cast(Table, OrganizationRow.__table__)
# Built once: every request naming a registry runs it (``db.index`` joins the reader's
# token to it for the access check of publishes and uncached reads). The tables' plain
# columns, not the mapped classes: no ORM objects are built, and Session.execute takes its
# Core path (the access check: 140 us a lookup on SQLite instead of 165-290).
REGISTRY_BY_SLUGS = (
    select(*_REGISTRIES.c, _ORGANIZATIONS.c.slug.label("organization_slug"))
    .join(_ORGANIZATIONS, _REGISTRIES.c.organization_id == _ORGANIZATIONS.c.id)
    .where(
        _ORGANIZATIONS.c.slug == bindparam("organization"),
        _REGISTRIES.c.slug == bindparam("registry"),
    )
)


def bump_serial(session: Session, registry_id: str, projects: Collection[str] = ()) -> int:
    """Mark a change to what the registry's index shows (see the module's docstring) and
    return the new serial. ``projects`` (normalised) names the projects whose pages change
    (their files, yanks or status): each is given the new serial as its own, which keys its
    cached page (``db.project_serials``). A change to no project's page (visibility, a
    composite's upstreams) names none."""
    serial: int = session.execute(_BUMP_SERIAL, {"registry_id": registry_id}).scalar_one()
    mark_projects(session, registry_id, projects, serial)
    return serial


def organization_from_row(row: OrganizationRow) -> Organization:
    return Organization(id=row.id, slug=row.slug, name=row.name, created_at=row.created_at)


class RegistryColumns(Protocol):
    """A registry's stored columns: a ``RegistryRow``, or a plain result row selecting
    the ``registries`` table's columns (``REGISTRY_BY_SLUGS``)."""

    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ecosystem(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def emoji(self) -> str | None: ...
    @property
    def color(self) -> str | None: ...
    @property
    def public(self) -> bool: ...
    @property
    def type(self) -> str: ...
    @property
    def serial(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def quota_bytes(self) -> int | None: ...


def registry_from_row(row: RegistryColumns, organization_slug: str) -> Registry:
    return Registry(
        id=row.id,
        organization_id=row.organization_id,
        organization_slug=organization_slug,
        slug=row.slug,
        name=row.name,
        ecosystem=row.ecosystem,
        description=row.description,
        emoji=row.emoji,
        color=row.color,
        public=row.public,
        type=RegistryType(row.type),
        serial=row.serial,
        created_at=row.created_at,
        quota_bytes=row.quota_bytes,
    )


def add_organization(session: Session, organization: Organization) -> None:
    """The caller's transaction fails (IntegrityError) when the slug is taken."""
    session.add(
        OrganizationRow(
            id=organization.id,
            slug=organization.slug,
            name=organization.name,
            created_at=organization.created_at,
        )
    )
    session.flush()


def organization_by_slug(session: Session, slug: str) -> Organization | None:
    row = session.scalar(select(OrganizationRow).where(OrganizationRow.slug == slug))
    return None if row is None else organization_from_row(row)


def registry_by_slugs(session: Session, organization: str, registry: str) -> Registry | None:
    found = session.execute(
        REGISTRY_BY_SLUGS, {"organization": organization, "registry": registry}
    ).first()
    return None if found is None else registry_from_row(found, found.organization_slug)


def registries_of(session: Session, organization: Organization) -> list[Registry]:
    """The organization's registries, oldest first."""
    rows = session.scalars(
        select(RegistryRow)
        .where(RegistryRow.organization_id == organization.id)
        .order_by(RegistryRow.created_at)
    ).all()
    return [registry_from_row(row, organization.slug) for row in rows]


def add_registry(
    session: Session,
    organization: Organization,
    fields: RegistryFields,
    registry_type: RegistryType,
    now: datetime,
) -> Registry:
    """Insert a registry (serial 0) whose slug is the kebab-case of its name; a taken slug
    raises IntegrityError at the flush."""
    name = fields.name or ""
    row = RegistryRow(
        id=str(uuid.uuid4()),
        organization_id=organization.id,
        slug=slugify(name),
        name=name,
        ecosystem=PYTHON_ECOSYSTEM,
        description=fields.description or "",
        emoji=fields.emoji,
        color=fields.color,
        public=bool(fields.public),
        type=registry_type.value,
        serial=0,
        created_at=now,
        quota_bytes=fields.quota_bytes if QUOTA in fields.given else None,
    )
    session.add(row)
    session.flush()
    return registry_from_row(row, organization.slug)


def change_registry(session: Session, registry: Registry, fields: RegistryFields) -> Registry:
    """Apply the given fields; a new name gives a new slug, and a change of visibility
    bumps the serial (cached index pages carry it). A taken slug raises IntegrityError."""
    row = session.get(RegistryRow, registry.id, with_for_update=False)
    if row is None:
        return registry
    if "name" in fields.given and fields.name:
        row.name = fields.name
        row.slug = slugify(fields.name)
    if "description" in fields.given:
        row.description = fields.description or ""
    if "emoji" in fields.given:
        row.emoji = fields.emoji
    if "color" in fields.given:
        row.color = fields.color
    if QUOTA in fields.given:
        row.quota_bytes = fields.quota_bytes
    visibility_changes = (
        "public" in fields.given and fields.public is not None and row.public != fields.public
    )
    if visibility_changes:
        row.public = bool(fields.public)
    session.flush()
    if visibility_changes:
        bump_serial(session, registry.id)
        session.refresh(row)
    return registry_from_row(row, registry.organization_slug)


def delete_registry(session: Session, registry_id: str) -> None:
    """Delete the registry with its packages and registry tokens."""
    session.execute(delete(PackageRow).where(PackageRow.registry_id == registry_id))
    session.execute(delete(TokenRow).where(TokenRow.registry_id == registry_id))
    session.execute(delete(RegistryRow).where(RegistryRow.id == registry_id))

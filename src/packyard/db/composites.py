"""Queries on composite registries: their ordered upstreams and their settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from packyard.core.composite import PYPI, CompositePolicy, CompositeSettings, PypiFiles, Upstream
from packyard.core.models import Registry
from packyard.db.registries import registry_from_row
from packyard.db.tables import CompositeSettingsRow, CompositeUpstreamRow, RegistryRow


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


def load_settings(session: Session, composite_id: str) -> CompositeSettings:
    """The upstreams (with their current serials), in order, and the policy."""
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


def registry_in(session: Session, composite: Registry, slug: str) -> Registry | None:
    """The registry called ``slug`` in the composite's organization."""
    row = session.scalar(
        select(RegistryRow).where(
            RegistryRow.organization_id == composite.organization_id, RegistryRow.slug == slug
        )
    )
    return None if row is None else registry_from_row(row, composite.organization_slug)


def replace_upstreams(session: Session, composite_id: str, upstreams: list[Upstream]) -> None:
    session.execute(
        delete(CompositeUpstreamRow).where(CompositeUpstreamRow.composite_id == composite_id)
    )
    for position, upstream in enumerate(upstreams):
        session.add(
            CompositeUpstreamRow(
                composite_id=composite_id, position=position, upstream_id=upstream.registry_id
            )
        )


def add_settings(session: Session, composite_id: str, values: dict[str, Any]) -> None:
    session.add(CompositeSettingsRow(registry_id=composite_id, **values))


def change_settings(session: Session, composite_id: str, values: dict[str, Any]) -> None:
    session.execute(
        update(CompositeSettingsRow)
        .where(CompositeSettingsRow.registry_id == composite_id)
        .values(**values)
    )

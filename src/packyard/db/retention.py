"""Queries for retention: a registry's policy, the facts its rules read of every file (one
query, plain rows: 100,000 files load in a fraction of a second), and run summaries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from packyard.core.retention import ProjectUsage, RetainedFile, RetentionPolicy, RetentionRun
from packyard.db.tables import (
    OrganizationRow,
    PackageRow,
    RegistryRow,
    RetentionPolicyRow,
    RetentionRunRow,
)

RUNS_KEPT = 50  # summaries kept per registry; older ones are dropped as new ones come


def policy_of(session: Session, registry_id: str) -> RetentionPolicy | None:
    row = session.get(RetentionPolicyRow, registry_id)
    if row is None:
        return None
    return RetentionPolicy(
        keep_latest=row.keep_latest,
        prereleases_max_age_days=row.prereleases_max_age_days,
        not_downloaded_days=row.not_downloaded_days,
        exempt=tuple(row.exempt or ()),
        min_age_hours=row.min_age_hours,
    )


def put_policy(session: Session, registry_id: str, policy: RetentionPolicy, now: datetime) -> None:
    row = session.get(RetentionPolicyRow, registry_id)
    if row is None:
        row = RetentionPolicyRow(registry_id=registry_id)
        session.add(row)
    row.keep_latest = policy.keep_latest
    row.prereleases_max_age_days = policy.prereleases_max_age_days
    row.not_downloaded_days = policy.not_downloaded_days
    row.exempt = list(policy.exempt)
    row.min_age_hours = policy.min_age_hours
    row.updated_at = now


def registries_with_policies(session: Session) -> list[tuple[str, str]]:
    """(organization slug, registry slug) of every registry that has a policy."""
    rows = session.execute(
        select(OrganizationRow.slug, RegistryRow.slug)
        .join(RegistryRow, RegistryRow.organization_id == OrganizationRow.id)
        .join(RetentionPolicyRow, RetentionPolicyRow.registry_id == RegistryRow.id)
        .order_by(OrganizationRow.slug, RegistryRow.slug)
    ).all()
    return [(org, registry) for org, registry in rows]


def retained_files(session: Session, registry_id: str) -> list[RetainedFile]:
    rows = session.execute(
        select(
            PackageRow.id,
            PackageRow.project,
            PackageRow.version,
            PackageRow.filename,
            PackageRow.size,
            PackageRow.created_at,
            PackageRow.last_downloaded_at,
        ).where(PackageRow.registry_id == registry_id)
    ).all()
    return [RetainedFile(*row) for row in rows]


def usage_by_project(session: Session, registry_id: str) -> list[ProjectUsage]:
    """Bytes and files per project of the registry, largest first."""
    rows = session.execute(
        select(PackageRow.project, func.sum(PackageRow.size), func.count())
        .where(PackageRow.registry_id == registry_id)
        .group_by(PackageRow.project)
    ).all()
    found = [ProjectUsage(project, int(size), int(count)) for project, size, count in rows]
    return sorted(found, key=lambda p: (-p.bytes, p.name))


def add_run(session: Session, registry_id: str, run: RetentionRun) -> None:
    session.add(
        RetentionRunRow(
            registry_id=registry_id,
            trigger=run.trigger,
            started_at=run.started_at,
            finished_at=run.finished_at,
            files_deleted=run.files_deleted,
            bytes_deleted=run.bytes_deleted,
        )
    )
    session.flush()
    stale = (
        select(RetentionRunRow.id)
        .where(RetentionRunRow.registry_id == registry_id)
        .order_by(RetentionRunRow.id.desc())
        .offset(RUNS_KEPT)
    )
    session.execute(delete(RetentionRunRow).where(RetentionRunRow.id.in_(stale)))


def runs_of(session: Session, registry_id: str, limit: int = 20) -> list[RetentionRun]:
    """The newest ``limit`` run summaries, newest first."""
    rows = session.scalars(
        select(RetentionRunRow)
        .where(RetentionRunRow.registry_id == registry_id)
        .order_by(RetentionRunRow.id.desc())
        .limit(limit)
    ).all()
    return [
        RetentionRun(r.trigger, r.started_at, r.finished_at, r.files_deleted, r.bytes_deleted)
        for r in rows
    ]

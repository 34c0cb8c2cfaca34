"""Retention: what a registry keeps, and how long Packyard keeps what nothing references.

``doomed_files(policy, files, now)`` is the whole decision, a pure function: the preview
shows its answer and a real run deletes exactly that list. Rules (each may be off):

- ``keep_latest`` N: releases (versions) of a project beyond its newest N, by PEP 440
  order, are deleted;
- ``prereleases_max_age_days`` D: pre-releases and dev releases uploaded more than D days
  ago are deleted;
- ``not_downloaded_days`` D: releases none of whose files was downloaded for D days
  (never downloaded: counted from the upload) are deleted.

A release any rule names is deleted, except: the newest release of each project (highest
version) is never deleted; a release an ``exempt`` entry matches is kept (``"glob"``
matches project names, ``"glob==version-glob"`` versions of those projects, both with
``*``/``?``/``[...]`` and against the normalised name); and no file younger than
``min_age_hours`` is deleted.

Named here too, with no dependencies, the defaults the CLI shows without importing the
services that apply them.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from packaging.version import InvalidVersion, Version

from packyard.core.index import version_key
from packyard.core.names import normalize_project

# A blob no file references is kept this long after it was last stored, so that one a
# publish is about to reference is never collected (``services.integrity`` explains why).
DEFAULT_GC_GRACE = timedelta(hours=1)
# A staged file (an upload or an import being received, a PyPI file being fetched) that
# nobody has written for this long belongs to a process that died: the staging sweep
# removes it. Live uploads write at least every ``upload_idle_timeout`` seconds.
DEAD_STAGING_AGE = timedelta(hours=1)

DEFAULT_MIN_AGE_HOURS = 1.0
MAX_EXEMPTIONS = 100
MAX_EXEMPTION_LENGTH = 200


class Reason:
    """Why a file is deleted, as the preview and the run summary say it."""

    KEEP_LATEST = "keep_latest"
    PRERELEASE_AGE = "prereleases_max_age_days"
    NOT_DOWNLOADED = "not_downloaded_days"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    keep_latest: int | None = None
    prereleases_max_age_days: int | None = None
    not_downloaded_days: int | None = None
    exempt: tuple[str, ...] = ()
    min_age_hours: float = DEFAULT_MIN_AGE_HOURS

    @property
    def deletes_anything(self) -> bool:
        return any(
            rule is not None
            for rule in (self.keep_latest, self.prereleases_max_age_days, self.not_downloaded_days)
        )


def policy_state(policy: RetentionPolicy) -> dict[str, Any]:
    """A policy as plain data: what the CLI prints and the audit log compares."""
    return {
        "keep_latest": policy.keep_latest,
        "prereleases_max_age_days": policy.prereleases_max_age_days,
        "not_downloaded_days": policy.not_downloaded_days,
        "exempt": list(policy.exempt),
        "min_age_hours": policy.min_age_hours,
    }


def policy_problems(policy: RetentionPolicy) -> list[str]:
    """What is wrong with ``policy``, one sentence a person can act on per problem."""
    problems: list[str] = []
    if policy.keep_latest is not None and policy.keep_latest < 1:
        problems.append("keep_latest must be at least 1 (or null to keep every release)")
    for name in ("prereleases_max_age_days", "not_downloaded_days"):
        value = getattr(policy, name)
        if value is not None and value < 0:
            problems.append(f"{name} must be 0 or more days (or null for no such rule)")
    if policy.min_age_hours < 0:
        problems.append("min_age_hours must be 0 or more")
    if len(policy.exempt) > MAX_EXEMPTIONS:
        problems.append(f"exempt may hold at most {MAX_EXEMPTIONS} entries")
    for entry in policy.exempt:
        project, _, version = entry.partition("==")
        if (
            not project.strip()
            or len(entry) > MAX_EXEMPTION_LENGTH
            or ("==" in entry and not version)
        ):
            problems.append(
                f"exempt entry {entry[:MAX_EXEMPTION_LENGTH]!r} must be a project name glob, "
                f"optionally followed by ==version-glob, at most {MAX_EXEMPTION_LENGTH} characters"
            )
    return problems


@dataclass(frozen=True, slots=True)
class RetainedFile:
    """What the rules read of one stored file."""

    package_id: str
    project: str  # normalised
    version: str
    filename: str
    size: int
    created_at: datetime
    last_downloaded_at: datetime | None


@dataclass(frozen=True, slots=True)
class Doomed:
    """A file the policy deletes, and the first rule that names its release."""

    file: RetainedFile
    reason: str


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """The summary of one real run."""

    trigger: str  # "schedule" or "request"
    started_at: datetime
    finished_at: datetime
    files_deleted: int
    bytes_deleted: int


@dataclass(frozen=True, slots=True)
class ProjectUsage:
    name: str
    bytes: int
    files: int


@dataclass(frozen=True, slots=True)
class StorageUsage:
    """What a registry's files take, in all and per project (largest first)."""

    bytes: int
    files: int
    quota_bytes: int | None
    projects: list[ProjectUsage]


@dataclass(frozen=True, slots=True)
class _Release:
    version: str
    files: list[RetainedFile] = field(default_factory=list)

    @property
    def uploaded(self) -> datetime:
        return max(f.created_at for f in self.files)

    @property
    def last_used(self) -> datetime:
        return max(f.last_downloaded_at or f.created_at for f in self.files)

    @property
    def is_prerelease(self) -> bool:
        try:
            return Version(self.version).is_prerelease
        except InvalidVersion:
            return False


class _Exemptions:
    def __init__(self, entries: Iterable[str]) -> None:
        self._rules: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = []
        for entry in entries:
            project, _, version = entry.partition("==")
            self._rules.append(
                (
                    re.compile(fnmatch.translate(normalize_project(project.strip()))),
                    re.compile(fnmatch.translate(version.strip())) if version.strip() else None,
                )
            )

    def project_exempt(self, project: str) -> bool:
        return any(p.match(project) and v is None for p, v in self._rules)

    def release_exempt(self, project: str, version: str) -> bool:
        return any(p.match(project) and (v is None or v.match(version)) for p, v in self._rules)


def doomed_files(
    policy: RetentionPolicy, files: Iterable[RetainedFile], now: datetime
) -> list[Doomed]:
    """The files ``policy`` deletes from a registry holding ``files`` at ``now``, by
    project, newest version first, then file name."""
    if not policy.deletes_anything:
        return []
    exemptions = _Exemptions(policy.exempt)
    projects: dict[str, dict[str, _Release]] = defaultdict(dict)
    for file in files:
        releases = projects[file.project]
        releases.setdefault(file.version, _Release(file.version)).files.append(file)
    youngest_allowed = now - timedelta(hours=policy.min_age_hours)
    doomed: list[Doomed] = []
    for project in sorted(projects):
        if exemptions.project_exempt(project):
            continue
        ordered = sorted(projects[project].values(), key=lambda r: version_key(r.version))
        ordered.reverse()
        for rank, release in enumerate(ordered):
            if rank == 0 or exemptions.release_exempt(project, release.version):
                continue  # the newest release of a project is never deleted
            reason = _reason(policy, rank, release, now)
            if reason is None:
                continue
            doomed.extend(
                Doomed(file, reason)
                for file in sorted(release.files, key=lambda f: f.filename)
                if file.created_at <= youngest_allowed
            )
    return doomed


def _reason(policy: RetentionPolicy, rank: int, release: _Release, now: datetime) -> str | None:
    if policy.keep_latest is not None and rank >= policy.keep_latest:
        return Reason.KEEP_LATEST
    days = policy.prereleases_max_age_days
    if days is not None and release.is_prerelease and release.uploaded < now - timedelta(days=days):
        return Reason.PRERELEASE_AGE
    days = policy.not_downloaded_days
    if days is not None and release.last_used < now - timedelta(days=days):
        return Reason.NOT_DOWNLOADED
    return None

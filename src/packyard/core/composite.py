"""Composite registries: what one index URL serves when it merges source registries and
the public PyPI. Pure functions over plain data; no I/O.

The idea is devpi's stage resolution order: a composite has an ordered list of upstreams,
and a question ("which files does project P have?") is answered by walking that list. Two
rules make it safe from dependency confusion:

1. The same file name from two upstreams is served once, from the first.
2. A project name that any *source* upstream publishes hides that name on PyPI entirely
   (no PyPI versions are mixed in), unless the composite lists it in ``public_overrides``.

A cooldown (``min_release_age``) drops PyPI files younger than that age, or without an
upload time (fail closed), except for names in ``cooldown_exempt``; ``cooldown_ends`` says
when the next of them comes of age, so that an answer remembered until then stays right.

To add a rule, add a step to ``resolve_project`` and a test in ``tests/unit/test_composite``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.core.names import normalize_project
from packyard.core.registries import RegistryFields
from packyard.core.simple_api import PYPI_UPSTREAM


class PypiFiles(enum.StrEnum):
    """How a composite serves files from PyPI."""

    LINK = "link"  # link to the file where it lives; no bytes pass through Packyard
    CACHE = "cache"  # fetch once, check the hash, keep it in the blob store


@dataclass(frozen=True, slots=True)
class Upstream:
    """One entry of a composite's ordered upstream list: a source registry or PyPI."""

    slug: str  # the source registry's slug, or "pypi"
    registry_id: str | None = None  # None for PyPI
    serial: int = 0  # the source registry's serial when it was loaded (keys page caches)

    @property
    def is_pypi(self) -> bool:
        return self.registry_id is None


PYPI = Upstream(PYPI_UPSTREAM)


@dataclass(frozen=True, slots=True)
class CompositePolicy:
    """The settings of a composite that decide what it serves."""

    public_overrides: frozenset[str] = frozenset()  # normalised names
    min_release_age: timedelta | None = None
    cooldown_exempt: frozenset[str] = frozenset()  # normalised names
    pypi_files: PypiFiles = PypiFiles.LINK


@dataclass(frozen=True, slots=True)
class CompositeSettings:
    """A composite's whole configuration, as stored and as the REST API shows it."""

    upstreams: list[Upstream] = field(default_factory=list)
    policy: CompositePolicy = field(default_factory=CompositePolicy)

    @property
    def source_upstreams(self) -> list[Upstream]:
        return [u for u in self.upstreams if not u.is_pypi]

    @property
    def uses_pypi(self) -> bool:
        return any(u.is_pypi for u in self.upstreams)


def settings_fields(settings: CompositeSettings) -> dict[str, Any]:
    """A composite's configuration as plain fields: what REST shows and the audit log
    compares."""
    policy = settings.policy
    age = policy.min_release_age
    return {
        "upstreams": [u.slug for u in settings.upstreams],
        "public_overrides": sorted(policy.public_overrides),
        "pypi_files": policy.pypi_files.value,
        "min_release_age": None if age is None else int(age.total_seconds()),
        "cooldown_exempt": sorted(policy.cooldown_exempt),
    }


class ResolvableFile(Protocol):
    @property
    def filename(self) -> str: ...

    @property
    def upload_time(self) -> datetime | None: ...


F = TypeVar("F", bound=ResolvableFile)


def pypi_is_hidden(project: str, has_private_files: bool, policy: CompositePolicy) -> bool:
    """Whether PyPI's files of ``project`` must not be served (rule 2 above)."""
    return has_private_files and normalize_project(project) not in policy.public_overrides


def resolve_project(
    project: str,
    answers: Sequence[tuple[Upstream, Sequence[F] | None]],
    policy: CompositePolicy,
    now: datetime,
) -> list[tuple[F, Upstream]]:
    """The files a composite serves for ``project``, each with the upstream it came from.

    ``answers`` holds each upstream's files in the composite's order (None or empty when
    the upstream does not have the project). An empty answer means the composite does not
    have the project either.
    """
    has_private = any(files for upstream, files in answers if not upstream.is_pypi)
    hide_pypi = pypi_is_hidden(project, has_private, policy)
    seen: set[str] = set()
    served: list[tuple[F, Upstream]] = []
    for upstream, files in answers:
        if not files or (upstream.is_pypi and hide_pypi):
            continue
        if upstream.is_pypi:
            files = cooled_down(project, files, policy, now)
        for file in files:
            if file.filename not in seen:
                seen.add(file.filename)
                served.append((file, upstream))
    return served


def cooled_down(
    project: str, files: Sequence[F], policy: CompositePolicy, now: datetime
) -> list[F]:
    """PyPI files old enough to be served; files without an upload time fail closed."""
    age = policy.min_release_age
    if age is None or normalize_project(project) in policy.cooldown_exempt:
        return list(files)
    cutoff = now - age
    return [f for f in files if f.upload_time is not None and f.upload_time <= cutoff]


def cooldown_ends(
    project: str, files: Sequence[ResolvableFile], policy: CompositePolicy, now: datetime
) -> datetime | None:
    """The first moment after ``now`` at which a PyPI file too young now becomes old
    enough to serve (what ``cooled_down`` keeps changes then); None when none will."""
    age = policy.min_release_age
    if age is None or normalize_project(project) in policy.cooldown_exempt:
        return None
    cutoff = now - age
    ends = [
        f.upload_time + age for f in files if f.upload_time is not None and f.upload_time > cutoff
    ]
    return min(ends, default=None)


def project_names(answers: Iterable[Iterable[str]]) -> list[str]:
    """The composite's project list: the sorted union of its upstreams' (normalised)."""
    names: set[str] = set()
    for upstream_names in answers:
        names.update(normalize_project(n) for n in upstream_names)
    return sorted(names)


_DURATION = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")
_UNIT_SECONDS = {
    "": 1,
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
    "week": 604800,
}


def parse_duration(value: int | str | None) -> int | None:
    """Seconds for "7 days", "12 hours", "90 minutes", "30s", 3600 or "3600"; None stays None.

    Raises ValidationFailed for anything else, negative numbers included.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed("A duration must be a number of seconds or a text like '7 days'")
    if isinstance(value, int):
        if value < 0:
            raise ValidationFailed("A duration cannot be negative")
        return value
    found = _DURATION.match(value.lower())
    unit = found.group(2) if found else ""
    singular = unit[:-1] if unit.endswith("s") and unit[:-1] in _UNIT_SECONDS else unit
    if found is None or singular not in _UNIT_SECONDS:
        raise ValidationFailed(
            f"Cannot read {value!r} as a duration: use seconds, or a number with "
            "seconds, minutes, hours, days or weeks, such as '7 days'"
        )
    return int(found.group(1)) * _UNIT_SECONDS[singular]


def normalized_names(names: Iterable[str]) -> list[str]:
    """Project names in PEP 503 form, sorted and without duplicates (for settings lists)."""
    result = set()
    for name in names:
        if not name.strip():
            raise ValidationFailed("A project name in a list may not be empty")
        result.add(normalize_project(name.strip()))
    return sorted(result)


UPSTREAM_EDITS = ("add", "remove", "up", "down")


def edit_upstreams(current: Sequence[str], action: str, slug: str) -> list[str]:
    """The upstream list after one edit from the Upstreams tab: ``add`` (a source registry
    goes before PyPI, PyPI goes last), ``remove``, or move ``up``/``down`` one place.
    Raises InvalidRequest for an unknown action; an edit that changes nothing is allowed."""
    if action not in UPSTREAM_EDITS:
        raise InvalidRequest(f"Unknown upstream edit {action!r}: use {', '.join(UPSTREAM_EDITS)}")
    edited = list(current)
    if action == "add":
        if slug not in edited:
            at = (
                edited.index(PYPI_UPSTREAM)
                if PYPI_UPSTREAM in edited and slug != PYPI_UPSTREAM
                else len(edited)
            )
            edited.insert(at, slug)
        return edited
    if slug not in edited:
        return edited
    if action == "remove":
        edited.remove(slug)
        return edited
    position = edited.index(slug)
    other = position - 1 if action == "up" else position + 1
    if 0 <= other < len(edited):
        edited[position], edited[other] = edited[other], edited[position]
    return edited


@dataclass(frozen=True, slots=True)
class CompositeSpec:
    """A new composite: its own fields, its upstreams in order, and its settings."""

    fields: RegistryFields
    upstreams: Sequence[str]
    public_overrides: Sequence[str] = ()
    pypi_files: str = PypiFiles.LINK.value
    min_release_age: int | str | None = None
    cooldown_exempt: Sequence[str] = field(default_factory=tuple)

"""What the simple index shows, as plain data: a project's files, a registry's projects,
each answer with the version that keys its rendered pages and ETags.

Source registries and composites answer with the same shapes (``services.index``); the
web layer renders them as HTML or JSON (``web.simple.render``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from packaging.version import InvalidVersion, Version

from packyard.core.lifecycle import ProjectState
from packyard.core.simple_api import METADATA_SUFFIX

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    version: str
    sha256: str
    size: int
    upload_time: datetime | None  # None only for upstream files that lack one
    requires_python: str | None
    core_metadata_sha256: str | None
    yanked_reason: str | None
    yanked: bool = False
    # Composite registries only: the upstream the file came from, an absolute URL when the
    # file is linked where it lives (PyPI, pypi_files=link), and PEP 740 provenance.
    source: str | None = None
    url: str | None = None
    provenance: str | None = None
    # A file of a source registry published with verified PEP 740 attestations: the page
    # links the registry's Integrity API for it.
    has_provenance: bool = False


@dataclass(frozen=True, slots=True)
class ProjectPage:
    name: str  # normalised
    files: list[IndexFile]
    versions: list[str]
    status: ProjectState | None = None  # PEP 792; None: none recorded (active)


@dataclass(frozen=True, slots=True)
class ProjectList:
    projects: list[str]  # normalised names, sorted


@dataclass(frozen=True, slots=True)
class Versioned(Generic[T]):
    """An answer and its version: a number that changes whenever the answer does (a source
    registry's serial; for a composite, a digest of everything its answer depends on)."""

    value: T
    version: int


def version_key(version: str) -> tuple[int, Version | str]:
    """Sorts PEP 440 versions in order, after any that do not parse."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def project_page(
    name: str, files: Iterable[IndexFile], status: ProjectState | None = None
) -> ProjectPage:
    """The page of ``name`` (normalised): files by version then name, versions in order;
    a quarantined project's page lists no file (PEP 792)."""
    if status is not None and not status.status.serves_files:
        return ProjectPage(name, [], [], status)
    ordered = sorted(files, key=lambda f: (version_key(f.version), f.filename))
    versions = sorted({f.version for f in ordered}, key=version_key)
    return ProjectPage(name, ordered, versions, status)


@dataclass(frozen=True, slots=True)
class Download:
    """What a file URL sends: a blob of the store under the name asked for, or a redirect
    (a PyPI file a composite links to where it lives)."""

    filename: str  # as asked for, ".metadata" included
    blob_key: str | None
    redirect_url: str | None = None
    size: int | None = None  # known from the database for distributions
    # The package a whole download of this file counts for; None: not counted (PEP 658
    # metadata, PyPI's files).
    package_id: str | None = None

    @property
    def is_metadata(self) -> bool:
        return self.filename.endswith(METADATA_SUFFIX)

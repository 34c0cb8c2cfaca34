"""What ``packyard import`` works with: the files a source offers, the choice of which to
take, what became of each, and the progress a caller may watch.

A source (a folder, a devpi export, a simple index, a Packyard export) only lists files and
fetches their bytes into staging; ``services.importing`` decides what to do with them.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from packaging.utils import canonicalize_name

from packyard.core.errors import InvalidDistribution
from packyard.dists.filenames import parse_filename
from packyard.services.staging import StagedFile, StagingArea


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One distribution file a source offers; what the source does not know is None."""

    filename: str
    location: str  # a path or URL the source fetches it from
    uploaded_at: datetime | None = None  # None: the time of the import
    size: int | None = None
    sha256: str | None = None  # checked against the bytes before anything is recorded
    yanked_reason: str | None = None  # "" is yanked without a reason
    requires_python: str | None = None
    attestations: str | None = None

    @property
    def project(self) -> str:
        """The PEP 503 name the file name claims, or the name's first part when it does
        not parse (the publish pipeline then refuses it with the reason)."""
        try:
            return parse_filename(self.filename).project
        except InvalidDistribution:
            return canonicalize_name(self.filename.split("-", 1)[0])


class FetchFailed(Exception):
    """The bytes of a file could not be had (network, missing file, wrong hash); the message
    says why, and the import goes on with the next file."""


class Source(Protocol):
    """Where files come from. ``description`` is recorded as each file's origin, so it must
    never hold a credential."""

    description: str

    def files(self) -> Iterator[SourceFile]:
        """Every file the source offers (the scan); raises FetchFailed when the source
        cannot be read at all."""

    def fetch(self, file: SourceFile, staging: StagingArea) -> StagedFile:
        """The file's bytes, staged; raises FetchFailed, or TooLarge past the upload
        limit."""

    def close(self) -> None:
        """Release connections."""


def stage_chunks(staging: StagingArea, filename: str, chunks: Iterable[bytes]) -> StagedFile:
    """Write ``chunks`` into a staged file (digests computed on the way); the partial file
    is removed when the chunks fail."""
    writer = staging.open(filename)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.discard()
        raise
    return writer.finish()


@dataclass(frozen=True, slots=True)
class Selection:
    """Which files to take: project globs (on PEP 503 names) and an upload-time range."""

    projects: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", tuple(canonicalize_name(p) for p in self.projects))

    def takes_project(self, project: str) -> bool:
        name = canonicalize_name(project)
        return not self.projects or any(fnmatch.fnmatchcase(name, p) for p in self.projects)

    def takes(self, file: SourceFile) -> bool:
        if not self.takes_project(file.project):
            return False
        moment = file.uploaded_at
        if moment is None:
            return self.since is None and self.until is None
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until


class Outcome(enum.Enum):
    IMPORTED = "imported"
    ALREADY_THERE = "already_there"
    REFUSED = "refused"  # the publish pipeline said no: a hostile or invalid file, a conflict
    FAILED = "failed"  # the bytes could not be had, or did not match the source's hash


@dataclass(frozen=True, slots=True)
class FileResult:
    filename: str
    outcome: Outcome
    size: int
    reason: str = ""


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    results: list[FileResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def bytes_of(self, outcome: Outcome) -> int:
        return sum(r.size for r in self.results if r.outcome is outcome)

    @property
    def problems(self) -> list[FileResult]:
        return [r for r in self.results if r.outcome in (Outcome.REFUSED, Outcome.FAILED)]

    @property
    def ok(self) -> bool:
        return not self.problems


class Phase(enum.Enum):
    SCAN = "scan"
    FETCH = "fetch"
    RECORD = "record"


class Progress(Protocol):
    """What the import reports as it goes (the CLI draws bars or prints lines);
    ``advance`` is called from the import's threads."""

    def start(self, phase: Phase, files: int | None, size: int | None) -> None:
        """A phase begins; totals are None when not known in advance."""

    def advance(self, phase: Phase, files: int, size: int) -> None: ...

    def finish(self, phase: Phase) -> None: ...


class SilentProgress:
    def start(self, phase: Phase, files: int | None, size: int | None) -> None:
        pass

    def advance(self, phase: Phase, files: int, size: int) -> None:
        pass

    def finish(self, phase: Phase) -> None:
        pass

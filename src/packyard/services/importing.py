"""``packyard import``: bring the files of a source into a source registry, the way a publish
would, keeping each file's original upload time, yank state and origin.

Phases: *scan* (list what the source offers and keep what the selection takes), *fetch*
(stage the bytes) and *record* (``PublishService.publish``: the same inspection, duplicate
check, blob store and one transaction per file as an upload). Several files go through
fetch and record at once, in a bounded pool of threads.

Why it is safe to run again, or after being killed: a file is recorded in one transaction
of its own, after its blob is stored, so a killed import leaves whole files and at most an
unreferenced blob (collected by ``packyard gc``); a file already in the registry with the
same bytes is "already there", and one whose SHA256 the source states is known to be there
before a byte is fetched. A file the registry holds with *other* bytes is refused
(Conflict), never replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import InvalidRequest, PackyardError, UpstreamError
from packyard.core.models import Registry, RegistryType
from packyard.db.packages import held_digests
from packyard.services.import_model import (
    FetchFailed,
    FileResult,
    ImportReport,
    Outcome,
    Phase,
    Progress,
    Selection,
    Source,
    SourceFile,
)
from packyard.services.publishing import Provenance, PublishService
from packyard.services.registries import RegistryService
from packyard.services.staging import StagedFile, StagingArea

DEFAULT_CONCURRENCY = 8


class ImportService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        publishing: PublishService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._publishing = publishing
        self._now = now

    def target(self, organization: str, registry: str) -> Registry:
        """The source registry to import into; raises NotFound or InvalidRequest."""
        found = self._registries.find_registry(organization, registry)
        if found.type is not RegistryType.SOURCE:
            raise InvalidRequest(
                f"{found.slug!r} is a composite registry; import into a source registry"
            )
        return found

    def run(
        self,
        target: Registry,
        source: Source,
        selection: Selection,
        progress: Progress,
        *,
        dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> ImportReport:
        """Import what ``selection`` takes of ``source`` into ``target``; with ``dry_run``
        the report says what would come in (files and bytes) and nothing is fetched."""
        report = ImportReport(source.description, dry_run=dry_run)
        wanted = _scan(source, selection, progress)
        to_fetch = self._sort_known(target, wanted, report, by_name=dry_run)
        if dry_run:
            report.results += [
                FileResult(f.filename, Outcome.IMPORTED, f.size or 0) for f in to_fetch
            ]
            return report
        progress.start(Phase.FETCH, len(to_fetch), _known_size(to_fetch))
        progress.start(Phase.RECORD, len(to_fetch), None)
        staging = self._publishing.staging

        def one(file: SourceFile) -> FileResult:
            fetched = _fetch(source, staging, file)
            staged = isinstance(fetched, StagedFile)
            progress.advance(Phase.FETCH, 1, fetched.size if staged else 0)
            return self._record(target, source, file, fetched)

        for result in _bounded_map(one, to_fetch, concurrency):
            report.results.append(result)
            progress.advance(Phase.RECORD, 1, result.size)
        progress.finish(Phase.FETCH)
        progress.finish(Phase.RECORD)
        return report

    def _sort_known(
        self, target: Registry, files: list[SourceFile], report: ImportReport, *, by_name: bool
    ) -> list[SourceFile]:
        """Files to fetch; those the registry holds already (by name and stated SHA256)
        go straight into the report, as does a name the registry holds with other bytes.
        With ``by_name`` (a dry run, which reads no bytes) a file whose source states no
        SHA256 counts as there when its name is."""
        with self._sessions() as session:
            held = held_digests(session, target.id)
        to_fetch: list[SourceFile] = []
        for file in files:
            stored = held.get(file.filename)
            if stored is None or (file.sha256 is None and not by_name):
                to_fetch.append(file)
            elif file.sha256 is None or stored == file.sha256:
                report.results.append(
                    FileResult(file.filename, Outcome.ALREADY_THERE, file.size or 0)
                )
            else:
                report.results.append(
                    FileResult(
                        file.filename,
                        Outcome.REFUSED,
                        file.size or 0,
                        "the registry already holds this file name with other contents",
                    )
                )
        return to_fetch

    def _record(
        self, target: Registry, source: Source, file: SourceFile, fetched: StagedFile | FileResult
    ) -> FileResult:
        if isinstance(fetched, FileResult):
            return fetched
        if file.sha256 is not None and fetched.digests.sha256 != file.sha256.lower():
            self._publishing.staging.discard(fetched)
            return FileResult(
                file.filename,
                Outcome.FAILED,
                fetched.size,
                f"SHA256 mismatch: the source says {file.sha256}, "
                f"the bytes are {fetched.digests.sha256}",
            )
        provenance = Provenance(
            uploaded_at=file.uploaded_at or self._now(),
            source=source.description,
            yanked_reason=file.yanked_reason,
            requires_python=file.requires_python,
        )
        try:
            result = self._publishing.publish(
                target, fetched, attestations=file.attestations, provenance=provenance
            )
        except PackyardError as error:
            return FileResult(file.filename, Outcome.REFUSED, fetched.size, error.message)
        outcome = Outcome.IMPORTED if result.created else Outcome.ALREADY_THERE
        return FileResult(file.filename, outcome, fetched.size)


def _scan(source: Source, selection: Selection, progress: Progress) -> list[SourceFile]:
    progress.start(Phase.SCAN, None, None)
    wanted: list[SourceFile] = []
    try:
        for file in source.files():
            if selection.takes(file):
                wanted.append(file)
                progress.advance(Phase.SCAN, 1, file.size or 0)
    except FetchFailed as error:
        raise UpstreamError(f"Cannot read the source {source.description}: {error}") from None
    finally:
        progress.finish(Phase.SCAN)
    return wanted


def _known_size(files: list[SourceFile]) -> int | None:
    if any(f.size is None for f in files):
        return None
    return sum(f.size or 0 for f in files)


def _bounded_map(
    work: Callable[[SourceFile], FileResult], files: list[SourceFile], concurrency: int
) -> Iterator[FileResult]:
    """``work`` on each file in ``concurrency`` threads, results as they finish.

    Files are fetched *and* recorded in the threads: recording is mostly waiting for the
    disk (a blob and its folder flushed, a commit), which threads overlap; SQLite still
    takes one commit at a time. At most ``2 * concurrency`` files are submitted at once,
    and each thread holds one staged file, so staging stays small whatever the import."""
    window = 2 * concurrency
    pending: set[Future[FileResult]] = set()
    queue = iter(files)
    with ThreadPoolExecutor(concurrency) as pool:
        while True:
            while len(pending) < window and (file := next(queue, None)) is not None:
                pending.add(pool.submit(work, file))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


def _fetch(source: Source, staging: StagingArea, file: SourceFile) -> StagedFile | FileResult:
    """The staged file, or why it could not be had (the import goes on)."""
    size = file.size or 0
    try:
        return source.fetch(file, staging)
    except FetchFailed as error:
        return FileResult(file.filename, Outcome.FAILED, size, str(error))
    except PackyardError as error:  # TooLarge: refused like an upload
        return FileResult(file.filename, Outcome.REFUSED, size, error.message)
    except OSError as error:
        return FileResult(file.filename, Outcome.FAILED, size, f"{type(error).__name__}: {error}")

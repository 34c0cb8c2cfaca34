"""The PyPI upstream of composite registries: PEP 691 JSON fetched with httpx, cached per
project in the database (shared by every app process), and the files themselves when a
composite caches them. httpx is imported when PyPI is first asked (see
``bootstrap.UpstreamHttp``): a worker that never asks does not carry it.

Caching rules, per project:

- an answer younger than the TTL is used as is;
- an older one is revalidated with ``If-None-Match`` (a 304 only refreshes its age);
- a project PyPI does not have (404) is cached as absent for the TTL, like any answer;
- when PyPI is down, slow or answers an error, the last good copy is served (stale-if-error)
  and a warning is logged; with nothing cached the caller gets UpstreamError (502).

Files are only carried through when their names parse as wheels or sdists and PyPI gives
their SHA256: anything else could not be verified by the clients or by us.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.errors import UpstreamError
from packyard.core.names import normalize_project
from packyard.core.simple_api import JSON_V1, METADATA_SUFFIX
from packyard.db.tables import PypiProjectRow
from packyard.dists.filenames import parse_filename_or_none
from packyard.services.pypi_cache import PypiCache

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_SHA256_FORM = re.compile(r"[0-9a-f]{64}")
CHUNK_SIZE = 1024 * 1024
# After PyPI fails for a project, this process serves the stale copy without asking again
# for this long, so that a PyPI outage does not cost every request a timeout.
RETRY_AFTER_FAILURE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class PypiFile:
    """One file of a project on PyPI, as its PEP 691 page describes it."""

    filename: str
    url: str  # absolute
    version: str
    sha256: str
    size: int
    upload_time: datetime | None
    requires_python: str | None
    core_metadata_sha256: str | None
    yanked_reason: str | None
    yanked: bool
    provenance: str | None


@dataclass(frozen=True, slots=True)
class PypiAnswer:
    """PyPI's files of one project (None: PyPI has no such project) and a digest of them,
    which keys the pages rendered from them.

    ``fresh_until`` is the moment until which this process gives the same answer without
    asking PyPI again (the TTL, or the pause after a failure); it is not part of the
    answer's equality."""

    files: list[PypiFile] | None
    digest: str
    fresh_until: datetime = field(compare=False)


class PypiUpstream:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: Callable[[], httpx.Client],
        base_url: str,
        ttl_seconds: int,
        now: Callable[[], datetime],
        blobs: BlobStore,
        staging_dir: Path,
        max_file_bytes: int,
        cache: PypiCache,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._base_url = base_url.rstrip("/") + "/"
        self._ttl = timedelta(seconds=ttl_seconds)
        self._now = now
        self._blobs = blobs
        self._staging_dir = staging_dir
        self._max_file_bytes = max_file_bytes
        self._cache = cache
        self._failed_until: dict[str, datetime] = {}

    def project(self, project: str) -> PypiAnswer:
        """PyPI's answer for ``project``, from the cache when fresh.

        Raises UpstreamError when PyPI cannot be asked and nothing is cached.
        """
        name = normalize_project(project)
        with self._sessions() as session:
            cached = session.get(PypiProjectRow, name)
        return self.answer(name, cached)

    def answer(self, project: str, cached: PypiProjectRow | None) -> PypiAnswer:
        """``project(project)`` for a caller that loaded the cached row (None: nothing is
        cached) in a query of its own. Raises UpstreamError as ``project`` does."""
        name = normalize_project(project)
        now = self._now()
        if cached is not None and now - cached.fetched_at < self._ttl:
            return _answer(cached, cached.fetched_at + self._ttl)
        failed_until = self._failed_until.get(name, now)
        if cached is not None and now < failed_until:
            return _answer(cached, failed_until)
        return self._refresh(name, cached)

    def _refresh(self, name: str, cached: PypiProjectRow | None) -> PypiAnswer:
        import httpx

        headers = {"Accept": JSON_V1}
        if cached is not None and cached.etag and not cached.absent:
            headers["If-None-Match"] = cached.etag
        url = f"{self._base_url}{name}/"
        try:
            response = self._client().get(url, headers=headers)
            if response.status_code == 304 and cached is not None:
                return self._store(name, cached.files, cached.etag, absent=False)
            if response.status_code in (404, 410):
                return self._store(name, [], None, absent=True)
            response.raise_for_status()
            files = _parse_project_page(response)
        except (httpx.HTTPError, ValueError) as error:
            failed_until = self._now() + min(self._ttl, RETRY_AFTER_FAILURE)
            self._failed_until[name] = failed_until
            return _stale(name, cached, error, failed_until)
        self._failed_until.pop(name, None)
        return self._store(name, files, response.headers.get("etag"), absent=False)

    def _store(
        self, name: str, files: list[dict[str, Any]], etag: str | None, absent: bool
    ) -> PypiAnswer:
        row = PypiProjectRow(
            project=name,
            files=files,
            digest=_digest(files, absent),
            etag=etag,
            absent=absent,
            fetched_at=self._now(),
        )
        try:
            with self._sessions.begin() as session:
                session.merge(row)
        except IntegrityError:
            pass  # another process stored the same answer at the same moment
        return _answer(row, row.fetched_at + self._ttl)

    def cached_file(self, file: PypiFile, metadata: bool = False) -> str:
        """The blob key of ``file`` (or of its PEP 658 metadata), fetching it from PyPI once.

        The bytes are checked against the SHA256 PyPI's index announced before they are
        stored. Raises UpstreamError when they differ or cannot be fetched.
        """
        expected = file.core_metadata_sha256 if metadata else file.sha256
        if expected is None:
            raise UpstreamError(f"PyPI offers no metadata file for {file.filename!r}")
        held = self._blobs.size(expected)
        if held is not None:
            self._cache.used(expected, held)  # in memory: the hot path writes nothing
            return expected
        # Fetched under the key's blob lock, so the cache's pruner cannot remove the
        # bytes between storing them and recording them (services.pypi_cache).
        with self._cache.fetching(expected):
            size = self._blobs.size(expected)
            if size is None:
                size = self._fetch(file, metadata, expected)
            self._cache.stored(expected, size)
        return expected

    def _fetch(self, file: PypiFile, metadata: bool, expected: str) -> int:
        """Fetch ``file`` (or its metadata) into the blob store; its size. Raises
        UpstreamError when the bytes differ from ``expected`` or cannot be fetched."""
        url = file.url + METADATA_SUFFIX if metadata else file.url
        label = file.filename + (METADATA_SUFFIX if metadata else "")
        self._staging_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self._staging_dir, delete=False) as handle:
            path = Path(handle.name)
            try:
                actual = self._download(url, label, handle)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        if actual != expected:
            path.unlink(missing_ok=True)
            raise UpstreamError(
                f"Refusing {label}: PyPI sent bytes whose sha256 is {actual}, but its index "
                f"announced {expected}. The upstream file may have been tampered with."
            )
        size = path.stat().st_size
        self._blobs.put_file(expected, path)
        return size

    def _download(self, url: str, label: str, handle: Any) -> str:
        import httpx

        digest = hashlib.sha256()
        received = 0
        try:
            with self._client().stream("GET", url) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    received += len(chunk)
                    if received > self._max_file_bytes:
                        raise UpstreamError(f"Refusing {label}: PyPI sent more than the limit")
                    digest.update(chunk)
                    handle.write(chunk)
        except httpx.HTTPError as error:
            raise UpstreamError(f"Could not fetch {label} from PyPI: {error}") from None
        return digest.hexdigest()


def _stale(
    name: str, cached: PypiProjectRow | None, error: Exception, retry_at: datetime
) -> PypiAnswer:
    if cached is None:
        raise UpstreamError(
            f"PyPI could not be reached for {name!r} ({error}) and no copy is cached"
        )
    log.warning(
        "PyPI could not be reached for %r (%s); serving the copy fetched at %s",
        name,
        error,
        cached.fetched_at.isoformat(),
    )
    return _answer(cached, retry_at)


def _digest(files: list[dict[str, Any]], absent: bool) -> str:
    if absent:
        return "absent"
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answer(row: PypiProjectRow, fresh_until: datetime) -> PypiAnswer:
    if row.absent:
        return PypiAnswer(None, row.digest, fresh_until)
    return PypiAnswer([_file_from_stored(f) for f in row.files], row.digest, fresh_until)


def _parse_project_page(response: httpx.Response) -> list[dict[str, Any]]:
    """PEP 691 files as stored: only what we serve, with absolute URLs. Raises ValueError
    for an answer that is not a PEP 691 project page."""
    document = response.json()
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise ValueError("PyPI's answer is not a PEP 691 project page")
    page_url = str(response.url)
    stored = (_file_to_stored(page_url, f) for f in document["files"] if isinstance(f, dict))
    return [f for f in stored if f is not None]


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256_FORM.fullmatch(value.lower()) is not None


def _file_to_stored(page_url: str, file: dict[str, Any]) -> dict[str, Any] | None:
    filename = file.get("filename")
    hashes = file.get("hashes")
    if not isinstance(filename, str) or not isinstance(hashes, dict):
        return None
    sha256 = hashes.get("sha256")
    parsed = parse_filename_or_none(filename)
    # A hash is a blob key and goes into pages: anything but 64 hex digits is refused.
    if not _is_sha256(sha256) or parsed is None:
        return None
    metadata = file.get("core-metadata", file.get("dist-info-metadata", False))
    metadata_sha256 = metadata.get("sha256") if isinstance(metadata, dict) else None
    yanked = file.get("yanked", False)
    return {
        "filename": filename,
        "url": urljoin(page_url, str(file.get("url", filename))),
        "version": parsed.version,
        "sha256": str(sha256).lower(),
        "size": file.get("size") if isinstance(file.get("size"), int) else 0,
        "upload_time": file.get("upload-time")
        if isinstance(file.get("upload-time"), str)
        else None,
        "requires_python": file.get("requires-python") or None,
        "core_metadata_sha256": str(metadata_sha256).lower()
        if _is_sha256(metadata_sha256)
        else None,
        "yanked": yanked if isinstance(yanked, str) and yanked else bool(yanked),
        "provenance": file.get("provenance") if isinstance(file.get("provenance"), str) else None,
    }


def _file_from_stored(stored: dict[str, Any]) -> PypiFile:
    yanked = stored["yanked"]
    moment = stored["upload_time"]
    return PypiFile(
        filename=stored["filename"],
        url=stored["url"],
        version=stored["version"],
        sha256=stored["sha256"],
        size=stored["size"],
        upload_time=_parse_time(moment),
        requires_python=stored["requires_python"],
        core_metadata_sha256=stored["core_metadata_sha256"],
        yanked_reason=yanked if isinstance(yanked, str) else None,
        yanked=bool(yanked),
        provenance=stored["provenance"],
    )


def _parse_time(moment: str | None) -> datetime | None:
    if moment is None:
        return None
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return None  # unreadable counts as missing: a cooldown then fails closed
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

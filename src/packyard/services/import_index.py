"""Importing from any simple index over HTTP: PEP 691 JSON when the index speaks it (upload
times, requires-python, yank state, sizes), PEP 503 HTML otherwise.

Credentials come from the URL (``https://user:secret@host/simple/``) or, without them, from
``~/.netrc`` (``$NETRC``); they are sent only to the index's own origin, never to a file
host elsewhere, and never recorded: the source's description is the URL without them.
Every request is retried on 429, 5xx and connection errors, with exponential back-off (and
the server's Retry-After when it gives one, up to a bound).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from packyard import __version__
from packyard.core.names import normalize_project
from packyard.services.import_folders import parse_time
from packyard.services.import_model import FetchFailed, SourceFile, stage_chunks
from packyard.services.staging import StagedFile, StagingArea

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
)
JSON_V1 = "application/vnd.pypi.simple.v1+json"
ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
_RETRIED = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


class IndexSource:
    def __init__(
        self,
        url: str,
        *,
        wants_project: Callable[[str], bool] = lambda _: True,
        concurrency: int = 8,
        timeout: float = 60.0,
    ) -> None:
        parts = urlsplit(url if url.endswith("/") else url + "/")
        self.root = urlunsplit(parts._replace(netloc=_host_of(parts.netloc)))
        self.description = self.root
        self._origin = (parts.scheme, _host_of(parts.netloc))
        self._wants = wants_project
        self._concurrency = concurrency
        self._auth = _credentials(parts.username, parts.password, parts.hostname)
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": f"packyard-import/{__version__}"},
            limits=httpx.Limits(max_connections=concurrency * 2),
        )

    def files(self) -> Iterator[SourceFile]:
        names = [n for n in self._project_names() if self._wants(normalize_project(n))]
        # Project pages are read concurrently too: an index of thousands of projects
        # would otherwise take a round trip each.
        with ThreadPoolExecutor(self._concurrency) as pool:
            for page in pool.map(self._project_files, names):
                yield from page

    def fetch(self, file: SourceFile, staging: StagingArea) -> StagedFile:
        def attempt() -> StagedFile:
            with self._client.stream("GET", file.location, auth=self._auth_for(file.location)) as r:
                _raise_for_status(r)
                return stage_chunks(staging, file.filename, r.iter_bytes(1024 * 1024))

        return _with_retries(attempt, file.location)

    def close(self) -> None:
        self._client.close()

    def _get(self, url: str) -> httpx.Response:
        def attempt() -> httpx.Response:
            response = self._client.get(url, headers={"Accept": ACCEPT}, auth=self._auth_for(url))
            _raise_for_status(response)
            return response

        return _with_retries(attempt, url)

    def _auth_for(self, url: str) -> httpx.Auth | None:
        parts = urlsplit(url)
        if (parts.scheme, _host_of(parts.netloc)) == self._origin:
            return self._auth
        return None  # a file host elsewhere (a CDN, a bucket) gets no credentials

    def _project_names(self) -> list[str]:
        response = self._get(self.root)
        if _is_json(response):
            return [p["name"] for p in response.json().get("projects", [])]
        return [text for _href, text, _attrs in _anchors(response.text)]

    def _project_files(self, name: str) -> list[SourceFile]:
        page_url = urljoin(self.root, f"{normalize_project(name)}/")
        response = self._get(page_url)
        base = str(response.url)
        if _is_json(response):
            return [_json_file(base, f) for f in response.json().get("files", [])]
        return [_html_file(base, href, attrs) for href, _text, attrs in _anchors(response.text)]


def _host_of(netloc: str) -> str:
    return netloc.rsplit("@", 1)[-1]


def _credentials(user: str | None, password: str | None, host: str | None) -> httpx.Auth | None:
    if user is not None or password is not None:
        return httpx.BasicAuth(unquote(user or ""), unquote(password or ""))
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    if host and netrc.is_file():
        return httpx.NetRCAuth(str(netrc))
    return None


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip() == JSON_V1


def _json_file(base: str, entry: dict[str, Any]) -> SourceFile:
    yanked = entry.get("yanked", False)
    uploaded = entry.get("upload-time")
    return SourceFile(
        entry["filename"],
        urljoin(base, entry["url"]).split("#", 1)[0],
        uploaded_at=parse_time(uploaded) if uploaded else None,
        size=entry.get("size"),
        sha256=entry.get("hashes", {}).get("sha256"),
        yanked_reason=(yanked if isinstance(yanked, str) else "") if yanked else None,
        requires_python=entry.get("requires-python") or None,
        attestations=None,
    )


def _html_file(base: str, href: str, attrs: dict[str, str | None]) -> SourceFile:
    url, _, fragment = urljoin(base, href).partition("#")
    algorithm, _, digest = fragment.partition("=")
    yanked = attrs.get("data-yanked")
    return SourceFile(
        unquote(urlsplit(url).path.rsplit("/", 1)[-1]),
        url,
        sha256=digest if algorithm == "sha256" and digest else None,
        yanked_reason=None if "data-yanked" not in attrs else (yanked or ""),
        requires_python=attrs.get("data-requires-python") or None,
    )


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str, dict[str, str | None]]] = []
        self._current: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self._current = (found["href"] or "", found)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            href, attrs = self._current
            self.anchors.append((href, "".join(self._text).strip(), attrs))
            self._current = None


def _anchors(html: str) -> list[tuple[str, str, dict[str, str | None]]]:
    """(href, text, attributes) of every link of a PEP 503 page."""
    parser = _AnchorParser()
    parser.feed(html)
    return parser.anchors


class _Retry(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status in _RETRIED:
        after = response.headers.get("retry-after", "")
        raise _Retry(f"HTTP {status}", float(after) if after.isdigit() else None)
    if status == 401 or status == 403:
        raise FetchFailed(
            f"HTTP {status}: the index refused the credentials; give them in the URL "
            "(https://user:secret@host/simple/) or in ~/.netrc"
        )
    if status >= 400:
        raise FetchFailed(f"HTTP {status}")


def _with_retries(attempt: Callable[[], T], url: str) -> T:
    """``attempt()``, again after a back-off on 429, 5xx and connection errors."""
    delay = FIRST_BACKOFF_SECONDS
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except (_Retry, httpx.TransportError) as error:
            if number == ATTEMPTS:
                raise FetchFailed(f"{_safe(url)}: {error} (after {ATTEMPTS} attempts)") from None
            wait = getattr(error, "wait", None)
            time.sleep(min(wait if wait is not None else delay, MAX_BACKOFF_SECONDS))
            delay *= 2
        except FetchFailed as error:
            raise FetchFailed(f"{_safe(url)}: {error}") from None
    raise AssertionError("unreachable")


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=_host_of(parts.netloc), query=""))

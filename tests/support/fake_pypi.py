"""A small PEP 691 simple index on loopback that stands in for PyPI: JSON project pages with
ETags (and 304s), the files and their PEP 658 metadata, and switches to lie about a hash,
answer 503, or shut down altogether. It records the requests it receives."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from tests.support.builders import Dist, metadata_text, wheel_bytes
from tests.support.http_stub import Answer, handler_for

OLD_UPLOAD_TIME = "2020-01-01T00:00:00.000000Z"


@dataclass
class FakeFile:
    filename: str
    content: bytes
    upload_time: str | None = OLD_UPLOAD_TIME
    metadata: bytes | None = None
    announced_sha256: str | None = None  # set to lie about the content's hash
    requires_python: str | None = None
    yanked: bool | str = False
    provenance: str | None = None

    @property
    def sha256(self) -> str:
        return self.announced_sha256 or hashlib.sha256(self.content).hexdigest()

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "filename": self.filename,
            "url": f"../../files/{self.filename}",
            "hashes": {"sha256": self.sha256},
            "requires-python": self.requires_python,
            "yanked": self.yanked,
            "size": len(self.content),
            "core-metadata": (
                {"sha256": hashlib.sha256(self.metadata).hexdigest()} if self.metadata else False
            ),
        }
        if self.upload_time is not None:
            document["upload-time"] = self.upload_time
        if self.provenance is not None:
            document["provenance"] = self.provenance
        return document


def wheel_file(dist: Dist, **options: Any) -> FakeFile:
    """A real wheel of ``dist`` with its metadata served as PEP 658 says."""
    return FakeFile(
        dist.wheel_filename, wheel_bytes(dist), metadata=metadata_text(dist).encode(), **options
    )


@dataclass
class FakePypi:
    port: int = 0
    projects: dict[str, list[FakeFile]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, If-None-Match)
    failing: bool = False  # answer 503 to everything
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def add(self, project: str, *files: FakeFile) -> None:
        self.projects.setdefault(canonicalize_name(project), []).extend(files)

    def page_requests(self, project: str) -> list[str | None]:
        """The If-None-Match header of each request for ``project``'s page."""
        path = f"/simple/{canonicalize_name(project)}/"
        return [etag for requested, etag in self.requests if requested == path]

    def start(self) -> None:
        fake = self

        def respond(request: BaseHTTPRequestHandler) -> Answer:
            if_none_match = request.headers.get("If-None-Match")
            fake.requests.append((request.path, if_none_match))
            return fake.answer(request.path, if_none_match)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler_for(respond))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, path: str, if_none_match: str | None) -> Answer:
        if self.failing:
            return 503, {}, b"unavailable"
        parts = [unquote(p) for p in path.split("?")[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            return self._page(parts[1], if_none_match)
        if len(parts) == 2 and parts[0] == "files":
            return self._file(parts[1])
        return 404, {}, b"not found"

    def _page(self, project: str, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        files = self.projects.get(project)
        if files is None:
            return 404, {}, b"not found"
        body = json.dumps(
            {
                "meta": {"api-version": "1.1"},
                "name": project,
                "files": [f.as_json() for f in files],
            }
        ).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if if_none_match == etag:
            return 304, {"ETag": etag}, b""
        content_type = "application/vnd.pypi.simple.v1+json"
        return 200, {"ETag": etag, "Content-Type": content_type}, body

    def _file(self, name: str) -> tuple[int, dict[str, str], bytes]:
        for files in self.projects.values():
            for file in files:
                if file.filename == name:
                    return 200, {}, file.content
                if file.metadata is not None and f"{file.filename}.metadata" == name:
                    return 200, {}, file.metadata
        return 404, {}, b"not found"

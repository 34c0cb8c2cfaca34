"""A plain PEP 503 index of static HTML behind basic auth, the kind ``dumb-pypi`` or a web
server in front of a folder makes: the "any index" that speaks no JSON and has no upload
times. It can also answer 503 or 429 a number of times before serving a path (an index
under load), and serve bytes that do not match the hash its page states (a corrupted
mirror). It runs in a thread on a free loopback port."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.http_stub import Answer, handler_for
from tests.support.moving import project_of

USER, PASSWORD = "mirror", "s3cret-pass"


@dataclass
class IndexContent:
    files: dict[str, bytes]  # file name -> bytes served
    stated_sha256: dict[str, str] = field(default_factory=dict)  # overrides the real hash
    yanked: dict[str, str] = field(default_factory=dict)  # file name -> reason
    failures: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses first
    requests: list[str] = field(default_factory=list)

    def page(self, path: str) -> bytes | None:
        projects: dict[str, list[str]] = {}
        for name in sorted(self.files):
            projects.setdefault(project_of(name), []).append(name)
        if path == "/simple/":
            links = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(projects))
            return _html(links)
        for project, names in projects.items():
            if path == f"/simple/{project}/":
                return _html("".join(self._anchor(name) for name in names))
        if path.startswith("/files/") and path[7:] in self.files:
            return self.files[path[7:]]
        return None

    def _anchor(self, name: str) -> str:
        digest = self.stated_sha256.get(name) or hashlib.sha256(self.files[name]).hexdigest()
        yanked = f' data-yanked="{escape(self.yanked[name])}"' if name in self.yanked else ""
        return f'<a href="../../files/{name}#sha256={digest}"{yanked}>{name}</a>\n'


def _html(body: str) -> bytes:
    return f"<!DOCTYPE html><html><body>\n{body}</body></html>\n".encode()


def _answerer(content: IndexContent) -> Callable[[BaseHTTPRequestHandler], Answer]:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def answer(request: BaseHTTPRequestHandler) -> Answer:
        content.requests.append(request.path)
        if request.headers.get("Authorization") != expected:
            return 401, {"WWW-Authenticate": 'Basic realm="index"'}, b"who are you?"
        pending = content.failures.get(request.path)
        if pending:
            return pending.pop(0), {"Retry-After": "0"}, b"busy"
        body = content.page(request.path)
        if body is None:
            return 404, {}, b"not found"
        kind = "text/html" if request.path.endswith("/") else "application/octet-stream"
        return 200, {"Content-Type": kind}, body

    return answer


@contextmanager
def static_index(content: IndexContent) -> Iterator[str]:
    """Serve ``content``; yields the index URL without credentials."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(_answerer(content)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

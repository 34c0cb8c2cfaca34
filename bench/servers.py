"""The servers under test, each started in its recommended production mode on loopback,
and what the harness needs to drive them: index paths, credentials, twine's upload URL,
and the pid whose process tree is measured.

Packyard runs as ``packyard serve --workers 2`` (granian, its default HTTP server, one
worker per core; the access log on, its default) on the embedded default (SQLite and a
blob folder) or on the scale-out backends of ``bench/backends.py``; one variant runs with
``--no-access-log`` to show what the log costs, and one on uvicorn (``--server uvicorn``,
the alternative HTTP server, with uvloop and httptools). The peers live in ``bench/peers.py`` and
``bench/nginx_static.py``.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.backends import Backend
from tests.support.server import PackyardServer, free_port

from bench.backends import describe
from bench.report import DEFAULT_SERVER

READY_TIMEOUT_SECONDS = 60
ORGANIZATION = "bench"
REGISTRY_NAME = "Packages"


@dataclass
class Target:
    """A running server as the benchmark sees it."""

    name: str
    version: str
    mode: str
    base_url: str
    root_path: str
    project_prefix: str  # project page path = prefix + name + "/"
    pid: int
    index_url: str  # for pip and uv, with credentials when needed
    read_headers: dict[str, str] = field(default_factory=dict)
    twine_url: str | None = None
    twine_user: str = ""
    twine_password: str = ""
    rest_url: str | None = None  # Packyard's REST publish endpoint
    rest_token: str = ""
    stop_callback: object = None
    started_in_seconds: float = 0.0

    def project_path(self, project: str) -> str:
        return f"{self.project_prefix}{project}/"

    def stop(self) -> None:
        if callable(self.stop_callback):
            self.stop_callback()


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url}: not ready after {timeout} s:\n{log.read_text()[-4000:]}")


def spawn(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own, so that stop_process ends it and only it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        return subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def eatmydata_library() -> str | None:
    """Debian's eatmydata, whose ``LD_PRELOAD`` makes every fsync a no-op (None when it is
    not installed): a server run without durability, to show what durability costs."""
    found = sorted(glob.glob("/usr/lib/*/libeatmydata.so"))
    return found[0] if found else None


def packyard_version() -> str:
    from packyard import __version__

    return __version__


class Packyard:
    """Packyard with a private registry, a write token (publishing) and a read-only
    registry token (index reads, pip and uv): the realistic, authenticated case."""

    def __init__(
        self,
        workdir: Path,
        workers: int = 2,
        name: str = "Packyard",
        extra_env: dict[str, str] | None = None,
        access_log: bool = True,
        backend: Backend | None = None,
        server: str = DEFAULT_SERVER,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**(backend.server_env() if backend else {}), **(extra_env or {})}
        self.server = PackyardServer(
            data_dir=workdir / "data",
            log_path=workdir / "server.log",
            workers=workers,
            extra_env=env,
            access_log=access_log,
            server=server,
        )
        if "PACKYARD_DATABASE_URL" in env:
            self.server.cli("db", "upgrade")
        self.workers = workers
        self.name = name
        self.access_log = access_log
        self.http_server = server
        self.backend = describe(
            backend.database if backend else "sqlite", backend.storage if backend else "local"
        )

    def setup_data(self) -> tuple[str, str, str]:
        """Create the organization and registry; returns (registry slug, write, read)."""
        self.server.cli("org", "create", ORGANIZATION)
        slug = self.server.cli("registry", "create", ORGANIZATION, REGISTRY_NAME).stdout.strip()
        write = self.server.cli(
            "token", "create", ORGANIZATION, "--scope", "read_packages",
            "--scope", "write_packages",
        ).stdout.strip()  # fmt: skip
        read = self.server.cli("token", "create", ORGANIZATION, "--registry", slug).stdout.strip()
        return slug, write, read

    def start(self, slug: str, write: str, read: str) -> Target:
        started = time.monotonic()
        self.server.start()
        elapsed = time.monotonic() - started
        assert self.server.process is not None
        base = self.server.base_url
        prefix = f"/{ORGANIZATION}/{slug}/pypi"
        host = base.split("://", 1)[1]
        return Target(
            name=self.name,
            version=packyard_version(),
            mode=f"`packyard serve --workers {self.workers}"
            f"{'' if self.access_log else ' --no-access-log'}{self._server_option()}` "
            f"({self._server_text()}; access log {'on' if self.access_log else 'off'}; "
            f"{self.backend})",
            base_url=base,
            root_path=f"{prefix}/simple/",
            project_prefix=f"{prefix}/simple/",
            pid=self.server.process.pid,
            index_url=f"http://x:{read}@{host}{prefix}/simple/",
            read_headers={"Authorization": basic_header("x", read)},
            twine_url=f"{base}{prefix}/legacy/",
            twine_user="__token__",
            twine_password=write,
            rest_url=f"{base}/v2/packages/organizations/{ORGANIZATION}/registries/{slug}/packages",
            rest_token=write,
            stop_callback=self.server.stop,
            started_in_seconds=elapsed,
        )

    def _server_option(self) -> str:
        return "" if self.http_server == DEFAULT_SERVER else f" --server {self.http_server}"

    def _server_text(self) -> str:
        from importlib.metadata import version

        if self.http_server == "uvicorn":
            return f"uvicorn {version('uvicorn')}, uvloop, httptools"
        return f"{self.http_server} {version(self.http_server)}, uvloop"

    @property
    def port(self) -> int:
        return self.server.port


__all__ = ["Packyard", "Target", "basic_header", "free_port", "spawn", "stop_process", "wait_ready"]

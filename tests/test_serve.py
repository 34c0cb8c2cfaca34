"""``packyard serve`` and ``packyard quickstart`` as an administrator runs them: what stays
resident while the server runs, and the first-minute experience."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from packyard.core.snippets import TOKEN_PLACEHOLDER, TOKEN_VARIABLE, USER_NAME
from packyard.db.engine import make_engine, upgrade_schema
from packyard.db.migrations import SCHEMA_HEAD
from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import new_organization
from tests.support.server import (
    STARTUP_TIMEOUT_SECONDS,
    PackyardServer,
    free_port,
    worker_pids,
)
from tests.support.waiting import answers, eventually

# The revision before SCHEMA_HEAD: a database an older Packyard left.
PREVIOUS_REVISION = "0016"
# Loaded by the application (pydantic's compiled core, SQLAlchemy's extensions), never by
# the command line alone.
APPLICATION_LIBRARIES = ("_pydantic_core", "/sqlalchemy/")
# Compiled cores of libraries a worker needs only on demand: cryptography's (PyJWT, for an
# OIDC token; pypi-attestations and sigstore, for an attestation) and rfc3161-client's
# (sigstore). Imported at start, they and theirs cost each worker about 40 MiB.
ON_DEMAND_LIBRARIES = ("/cryptography/hazmat/bindings/_rust", "/rfc3161_client/_rust")


def _loaded(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@contextlib.contextmanager
def _two_workers(server: PackyardServer) -> Iterator[list[int]]:
    """The process ids of the two workers of ``server``, started for the block."""
    server.start()
    try:
        assert server.process is not None
        workers = worker_pids(server.process.pid)
        assert len(workers) == 2
        yield workers
    finally:
        server.stop()


def test_the_supervisor_leaves_the_application_to_its_workers(
    tmp_path: Path, backend: Backend
) -> None:
    """The process that stays up for the server's lifetime only supervises: the schema
    check and the application live in processes that end or serve."""
    server = backend.new_server(tmp_path, workers=2)
    server.start()
    try:
        assert server.process is not None
        supervisor = _loaded(server.process.pid)
        workers = [_loaded(pid) for pid in worker_pids(server.process.pid)]
        assert len(workers) == 2
        for library in APPLICATION_LIBRARIES:
            assert library not in supervisor
            assert all(library in worker for worker in workers)
    finally:
        server.stop()


@pytest.mark.backend_independent
def test_workers_start_without_the_attestation_and_oidc_token_libraries(tmp_path: Path) -> None:
    server = PackyardServer(tmp_path / "data", tmp_path / "server.log", workers=2)
    with _two_workers(server) as workers:
        for pid in workers:
            loaded = _loaded(pid)
            assert [library for library in ON_DEMAND_LIBRARIES if library in loaded] == []


@pytest.mark.backend_independent
@pytest.mark.parametrize("http_server", ["granian", "uvicorn"])
def test_workers_import_the_application_and_not_the_command_line(
    tmp_path: Path, http_server: str
) -> None:
    """Each process writes what it imports (``PYTHONPROFILEIMPORTTIME``) into the log: the
    application's services twice (the workers), the command line's modules once (the
    supervisor). A spawned worker used to run the command's main module first, as
    multiprocessing does."""
    server = PackyardServer(
        tmp_path / "data",
        tmp_path / "server.log",
        workers=2,
        server=http_server,
        extra_env={"PYTHONPROFILEIMPORTTIME": "1"},
    )
    with _two_workers(server):
        pass
    # Counted as names, not lines: two processes writing at once can split a line.
    imported = re.findall(r"packyard\.(?:bootstrap|cli\.lifecycle)\b", server.log_path.read_text())
    assert sorted(imported) == [*["packyard.bootstrap"] * 2, "packyard.cli.lifecycle"]


@pytest.mark.backend_independent
def test_the_schema_check_reads_a_current_embedded_database_without_sqlalchemy(
    tmp_path: Path,
) -> None:
    """The check ``packyard serve`` runs before its workers start: the first migrates the new
    database (SQLAlchemy and Alembic), the next finds it current with the standard library
    alone; a database whose recorded revision is older is migrated again."""
    check = (
        "import sys; from packyard.preflight import prepare; from packyard.settings import "
        "Settings; prepare(Settings()); print('sqlalchemy' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACKYARD_")}
    env["PACKYARD_DATA_DIR"] = str(tmp_path / "data")

    def imported_sqlalchemy() -> str:
        command = [sys.executable, "-c", check]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert imported_sqlalchemy() == "True"  # a new database: migrated
    assert imported_sqlalchemy() == "False"  # current: read with sqlite3
    database = tmp_path / "data" / "packyard.sqlite3"
    for left in database.parent.glob(f"{database.name}*"):  # with any -wal and -shm
        left.unlink()
    older = make_engine(f"sqlite:///{database}")
    upgrade_schema(older, PREVIOUS_REVISION)
    older.dispose()
    assert imported_sqlalchemy() == "True"  # an older schema: not current, so migrated
    with contextlib.closing(sqlite3.connect(database)) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == SCHEMA_HEAD


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    ("variable", "given", "expected"),
    [
        ("MALLOC_ARENA_MAX", None, b"2"),
        ("MALLOC_ARENA_MAX", "4", b"4"),
        ("_RJEM_MALLOC_CONF", None, b"background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0"),
        ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0", b"dirty_decay_ms:0"),
    ],
)
def test_workers_start_with_the_allocator_settings_unless_told_otherwise(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    given: str | None,
    expected: bytes,
) -> None:
    """glibc's arenas (two) and granian's jemalloc (memory given back 100 ms after a burst)."""
    monkeypatch.delenv(variable, raising=False)
    extra_env = {} if given is None else {variable: given}
    server = PackyardServer(
        tmp_path / "data", tmp_path / "server.log", workers=2, extra_env=extra_env
    )
    with _two_workers(server) as workers:
        for pid in workers:
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert variable.encode() + b"=" + expected in environment


# What each HTTP server's supervisor says once it starts (before any worker).
SUPERVISOR_STARTED = {"uvicorn": "Started parent process", "granian": "Starting granian"}


def _serve_refusing(tmp_path: Path, setting: str, value: str, server: str = "uvicorn") -> str:
    """The output of ``packyard serve`` with one setting changed, which must exit 1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACKYARD_")}
    env.update(PACKYARD_DATA_DIR=str(tmp_path / "data"), **{setting: value})
    command = [sys.executable, "-m", "packyard.cli.main", "serve", "--port", str(free_port())]
    result = subprocess.run(
        [*command, "--workers", "2", "--server", server],
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert SUPERVISOR_STARTED[server] not in result.stderr  # refused before any worker
    return result.stdout + result.stderr


@pytest.mark.backend_independent
@pytest.mark.parametrize("server", SUPERVISOR_STARTED)
def test_serve_refuses_a_configured_database_without_the_schema(
    tmp_path: Path, server: str
) -> None:
    database = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    output = _serve_refusing(tmp_path, "PACKYARD_DATABASE_URL", database, server)
    assert "run `packyard db upgrade`" in output


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("PACKYARD_STORAGE_URL", "ftp://files.example/blobs", "Unsupported storage URL"),
        ("PACKYARD_OIDC_ISSUERS", "http://issuer.example", "must be an https URL"),
    ],
)
@pytest.mark.parametrize("server", SUPERVISOR_STARTED)
def test_serve_refuses_a_wrong_setting_before_starting_workers(
    tmp_path: Path, setting: str, value: str, named: str, server: str
) -> None:
    assert named in _serve_refusing(tmp_path, setting, value, server)


@contextlib.contextmanager
def _quickstart(data_dir: Path, port: int, log: Path) -> Iterator[tuple[str, str]]:
    """Run ``packyard quickstart`` while the block runs; yields its output and token."""
    command = [sys.executable, "-m", "packyard.cli.main", "quickstart", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACKYARD_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir)], env=env, stdout=out, stderr=out
        )
    try:
        _wait_for_health(f"http://127.0.0.1:{port}", process, log)
        output = log.read_text()
        found = re.search(r"export PACKYARD_TOKEN=(\S+)", output)
        assert found is not None, output
        yield output, found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _wait_for_health(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        return answers(f"{base}/healthz")

    eventually(
        healthy, STARTUP_TIMEOUT_SECONDS, lambda: f"quickstart did not start:\n{log.read_text()}"
    )


@pytest.mark.backend_independent
def test_quickstart_prints_a_token_that_reads_its_demo_registry(tmp_path: Path) -> None:
    port = free_port()
    index = f"http://127.0.0.1:{port}/demo/python-packages/pypi/simple/"
    with _quickstart(tmp_path / "data", port, tmp_path / "first.log") as (output, token):
        assert f"export {TOKEN_VARIABLE}={token}\n" in output
        assert (
            f'pip install --index-url "http://{USER_NAME}:{TOKEN_PLACEHOLDER}@127.0.0.1' in output
        )
        assert f'-H "Authorization: Bearer {TOKEN_PLACEHOLDER}"' in output
        assert httpx.get(index, auth=("x", token)).status_code == 200
        assert httpx.get(index).status_code == 401
    # A second run finds the demo in place and prints the same token.
    with _quickstart(tmp_path / "data", port, tmp_path / "second.log") as (_, again):
        assert again == token
        assert httpx.get(index, auth=("x", token)).status_code == 200


@pytest.mark.backend_independent
@pytest.mark.parametrize("http_server", SUPERVISOR_STARTED)
def test_pip_installs_from_packyard_on_either_http_server(
    tmp_path: Path, pip_venv: Venv, http_server: str
) -> None:
    """``packyard serve`` on granian (the default, which sends large files itself:
    ``pathsend``) and on uvicorn (``--server uvicorn``) answers pip: the index, the PEP 658
    metadata and the wheel."""
    server = PackyardServer(
        tmp_path / "data", tmp_path / "server.log", workers=2, access_log=True, server=http_server
    )
    server.start()
    try:
        assert server.process is not None
        assert len(worker_pids(server.process.pid)) == 2
        organization = new_organization(server)
        registry = organization.registry("Python packages")
        token = organization.token("read_packages", "write_packages")
        registry.publish(write_wheel(Dist("served-by-either", "1.0"), tmp_path), token)
        pip_venv.pip_install(registry.index_url(token), "served-by-either==1.0")
        assert pip_venv.installed_version("served_by_either") == "1.0"
        answer = registry.get("served-by-either/", token)
        assert answer.headers["server"] == http_server
    finally:
        server.stop()
    # The application's own access log (the server's is off), flushed as each worker stops.
    page = f"/{organization.slug}/{registry.slug}/pypi/simple/served-by-either/"
    assert f'"GET {page} HTTP/1.1" 200' in server.log_path.read_text()

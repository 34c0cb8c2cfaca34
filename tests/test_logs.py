"""The logs an operator collects: with ``PACKYARD_LOG_FORMAT=json`` every line the server
writes is one JSON object; the access log names each request's id, route, status,
duration, principal and client; health probes and scrapes stay out of it; no secret the
test minted (tokens, a password, a session) ever appears, whatever the clients did."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.browser import PASSWORD, create_user
from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import make_venv
from tests.support.driver import Organization, new_organization
from tests.support.publishers import Publisher
from tests.support.server import PackyardServer
from tests.support.uploads import form_for, legacy_upload, upload_url
from tests.support.waiting import eventually

ACCESS_FIELDS = {
    "time",
    "level",
    "request_id",
    "route",
    "status",
    "duration_ms",
    "principal_kind",
    "principal_id",
    "client",
}


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    server = backend.new_server(
        tmp_path_factory.mktemp("logs"), {"PACKYARD_LOG_FORMAT": "json"}, workers=2
    )
    server.access_log = True
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "logs")


def _log_records(yard: PackyardServer) -> list[dict[str, Any]]:
    """Every line of the server's log as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in yard.log_path.read_text().splitlines() if line]


def _access_records(yard: PackyardServer, wanted: int, **match: object) -> list[dict[str, Any]]:
    """The access records matching ``match``, once ``wanted`` of them are written (the
    access log is written in batches, at least once a second)."""

    def found() -> list[dict[str, Any]]:
        return [
            record
            for record in _log_records(yard)
            if record.get("logger") == "packyard.access"
            and all(record.get(key) == value for key, value in match.items())
        ]

    def enough() -> list[dict[str, Any]]:
        records = found()
        return records if len(records) >= wanted else []  # [] is false: keep waiting

    if wanted == 0:
        return found()
    return eventually(
        enough,
        10,
        lambda: f"fewer than {wanted} access records match {match}:\n{yard.log_path.read_text()}",
    )


def _session_of_signed_in_user(yard: PackyardServer, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=yard.base_url, timeout=30)
    form = client.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert found is not None
    signed_in = client.post(
        "/sign-in", data={"csrf_token": found.group(1), "email": email, "password": PASSWORD}
    )
    assert signed_in.status_code in (200, 303), signed_in.text
    session = client.cookies.get("packyard_session")
    assert session
    return client, session


def test_no_secret_reaches_the_logs_while_clients_publish_install_and_sign_in(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("main")
    writer = org.token("write_packages", "read_packages")
    reader = registry.token()
    dist = Dist("logged-app", "1.0")
    files = [write_wheel(dist, tmp_path), write_sdist(dist, tmp_path)]
    twine = (sys.executable, "-m", "twine", "upload", "--non-interactive")
    Publisher(tmp_path / "home").run(
        *twine,
        *("--repository-url", upload_url(registry), "-u", "__token__", "-p", writer),
        *map(str, files),
        cwd=tmp_path,
    )
    make_venv(tmp_path / "venv").pip_install(registry.index_url(reader), "logged-app==1.0")
    email = create_user(yard, org, admin=True, name="logger")
    client, session = _session_of_signed_in_user(yard, email)
    try:
        assert client.get(f"/organizations/{org.slug}/packages").status_code == 200
    finally:
        client.close()
    httpx.get(f"{registry.simple_url}logged-app/", auth=("x", "not-a-real-token"), timeout=30)

    signed_in = _access_records(yard, 1, principal_kind="user")
    assert signed_in
    assert all(record["principal_id"] for record in signed_in)
    uploads = _access_records(yard, 2, principal_kind="api_token", method="POST")
    assert len(uploads) == 2
    assert {record["status"] for record in uploads} == {200}
    text = yard.log_path.read_text()
    for secret in (writer, reader, PASSWORD, session, "not-a-real-token"):
        assert secret not in text


def test_access_records_carry_the_request_and_its_outcome(
    yard: PackyardServer, org: Organization
) -> None:
    registry = org.registry("main")
    response = httpx.get(registry.simple_url, headers={"X-Request-ID": "trace-4711"}, timeout=30)
    assert response.status_code == 401  # a private registry, asked anonymously
    assert response.headers["x-request-id"] == "trace-4711"
    (record,) = _access_records(yard, 1, request_id="trace-4711")
    assert set(record) >= ACCESS_FIELDS
    assert record["route"] == "/{organization}/{registry}/pypi/simple/"
    assert record["status"] == 401
    assert record["principal_kind"] in (None, "anonymous")
    assert record["client"].startswith("127.0.0.1:")
    assert record["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])


def test_an_upload_is_logged_under_its_route_with_its_token(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("uploads")
    writer = org.token("read_packages", "write_packages")
    path = write_wheel(Dist("routed-app", "1.0"), tmp_path)
    fields = form_for(path, "routed-app", "1.0")
    legacy_upload(registry, path, writer, fields, suffix="pypi/legacy/")
    legacy_upload(registry, path, "pky_unknown", fields, suffix="pypi/legacy/", expect=401)
    route = "/{organization}/{registry}/pypi/legacy/"
    (published,) = _access_records(yard, 1, route=route, status=200)
    assert published["principal_kind"] == "api_token"
    assert published["principal_id"]
    (refused,) = _access_records(yard, 1, route=route, status=401)
    assert refused["principal_kind"] in (None, "anonymous")


@pytest.mark.parametrize("given", ["has spaces", "x" * 129, "quote\"and'more", ""])
def test_an_unsafe_request_id_is_replaced_by_one_of_ours(yard: PackyardServer, given: str) -> None:
    response = httpx.get(f"{yard.base_url}/", headers={"X-Request-ID": given}, timeout=30)
    returned = response.headers["x-request-id"]
    assert returned != given
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]+", returned)


def test_probes_and_scrapes_are_not_logged(yard: PackyardServer) -> None:
    marker = "probe-check-1"
    for path in ("/healthz", "/readyz", "/metrics"):
        response = httpx.get(f"{yard.base_url}{path}", headers={"X-Request-ID": marker})
        assert response.status_code == 200
    httpx.get(f"{yard.base_url}/sign-in", headers={"X-Request-ID": "after-probes"}, timeout=30)
    assert _access_records(yard, 1, request_id="after-probes")
    logged = {record.get("path") for record in _access_records(yard, 0)}
    assert not logged & {"/healthz", "/readyz", "/metrics"}


# What each HTTP server logs once per worker when the worker is ready to serve.
WORKER_READY = {"uvicorn": "Application startup complete", "granian": "Started worker-"}


def test_application_messages_are_json_too(yard: PackyardServer) -> None:
    records = _log_records(yard)
    ready = WORKER_READY[yard.server]
    startup = [r for r in records if ready in r.get("message", "")]
    assert len(startup) == 2  # one per worker
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


@pytest.mark.backend_independent
def test_the_default_access_log_is_one_text_line_per_request(tmp_path: Path) -> None:
    server = PackyardServer(tmp_path / "data", tmp_path / "server.log", access_log=True)
    server.start()
    try:
        httpx.get(f"{server.base_url}/sign-in", headers={"X-Request-ID": "text-7"}, timeout=30)
    finally:
        server.stop()
    (line,) = [line for line in server.log_path.read_text().splitlines() if "text-7" in line]
    assert re.fullmatch(
        r'INFO: +127\.0\.0\.1:\d+ - "GET /sign-in HTTP/1\.1" 200 [\d.]+ms text-7', line
    )

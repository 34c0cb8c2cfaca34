"""Hostile requests get a 4xx that says what is wrong, never a 500 or a traceback: broken
multipart bodies, a body trickled a byte a second, huge headers, path traversal, huge
tokens, and bytes that are not UTF-8 wherever a client can put them."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.archives import multipart_body
from tests.support.backends import Backend
from tests.support.builders import Dist, sdist_bytes, write_wheel
from tests.support.driver import Registry, new_organization
from tests.support.raw_http import connect, parse_response, raw_request, read_all
from tests.support.server import PackyardServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.backend_independent

IDLE_TIMEOUT_SECONDS = 2


@dataclass
class World:
    yard: PackyardServer
    registry: Registry
    writer: str
    wheel: str

    @property
    def prefix(self) -> str:
        return f"/{self.registry.organization}/{self.registry.slug}"

    def staging_is_empty(self) -> bool:
        return not list((self.yard.data_dir / "staging").iterdir())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[World]:
    root = tmp_path_factory.mktemp("hostile")
    server = backend.new_server(root, {"PACKYARD_UPLOAD_IDLE_TIMEOUT": str(IDLE_TIMEOUT_SECONDS)})
    server.start()
    org = new_organization(server)
    registry = org.registry("Private")
    writer = org.token("read_packages", "write_packages", "delete_packages")
    wheel = write_wheel(Dist("present", "1.0"), root)
    registry.publish(wheel, writer)
    yield World(server, registry, writer, wheel.name)
    server.stop()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _multipart_post(world: World, body: bytes) -> httpx.Response:
    return httpx.post(
        world.registry.publish_url,
        headers={**_bearer(world.writer), "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=body,
        timeout=30,
    )


# -- multipart -----------------------------------------------------------------------------


def test_a_form_with_two_files_is_refused(world: World) -> None:
    data = sdist_bytes(Dist("two", "1.0"))
    body = multipart_body(b"two-1.0.tar.gz", data)
    body = body.replace(b"--b0undary--\r\n", b"") + multipart_body(b"two-1.0.tar.gz", data)
    response = _multipart_post(world, body)
    assert response.status_code == 400
    assert "exactly one file" in response.json()["message"]
    assert world.staging_is_empty()


def test_a_part_with_a_huge_header_is_refused(world: World) -> None:
    body = (
        b"--b0undary\r\nX-Padding: "
        + b"a" * 20_000
        + b"\r\n"
        + multipart_body(b"big-1.0.tar.gz", b"data")[len(b"--b0undary\r\n") :]
    )
    response = _multipart_post(world, body)
    assert response.status_code == 400
    assert "header size exceeded" in response.json()["message"]
    assert world.staging_is_empty()


def test_a_form_cut_short_is_refused(world: World) -> None:
    body = multipart_body(b"cut-1.0.tar.gz", sdist_bytes(Dist("cut", "1.0")))
    response = _multipart_post(world, body[: len(body) // 2])
    assert response.status_code == 400
    assert "ended before the multipart form was complete" in response.json()["message"]
    assert world.staging_is_empty()


def test_a_connection_dropped_mid_body_leaves_nothing_staged(world: World) -> None:
    body = multipart_body(b"drop-1.0.tar.gz", bytes(200_000))
    head = (
        f"POST {_path(world.registry.publish_url)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {world.writer}\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with connect(world.yard.port) as sock:
        sock.sendall(head + body[:50_000])
        time.sleep(0.3)
    eventually(world.staging_is_empty, 10, "the dropped upload's staging file stayed")
    assert httpx.get(f"{world.yard.base_url}/healthz").status_code == 200


def test_a_body_trickled_a_byte_a_second_times_out_and_frees_the_server(world: World) -> None:
    body = multipart_body(b"slow-1.0.tar.gz", bytes(10_000))
    head = (
        f"POST {_path(world.registry.publish_url)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {world.writer}\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with connect(world.yard.port, timeout=20) as sock:
        sock.sendall(head + body[:200])
        answer = b""
        for byte in body[200:]:
            readable, _, _ = select.select([sock], [], [], 1.0)
            if readable:
                answer = read_all(sock)
                break
            # Meanwhile the server answers everyone else.
            assert httpx.get(world.registry.simple_url, auth=("x", world.writer)).status_code == 200
            sock.sendall(bytes([byte]))
            assert time.monotonic() - started < 15, "the trickling upload was never dropped"
    response = parse_response(answer)
    assert response.status == 408
    assert b"too slow" in response.body
    assert time.monotonic() - started < 4 * IDLE_TIMEOUT_SECONDS + 2
    eventually(world.staging_is_empty, 10, "the timed-out upload's staging file stayed")


# -- headers -------------------------------------------------------------------------------


def test_a_10_kb_accept_header_is_negotiated_not_crashed(world: World) -> None:
    accept = ", ".join(f"application/x-{i};q=0.{i % 10}" for i in range(800))[:10_000]
    response = world.registry.get("present/", world.writer, headers={"Accept": accept})
    assert response.status_code == 406  # none of the 800 types is one the index serves
    assert "text/html" in response.json()["message"]
    longer = "text/html, " + accept
    assert world.registry.get("", world.writer, headers={"Accept": longer}).status_code == 200


def test_a_huge_request_header_is_refused_cleanly(world: World) -> None:
    response = raw_request(
        world.yard.port,
        b"GET",
        world.prefix.encode() + b"/pypi/simple/",
        [(b"X-Padding", b"a" * 200_000)],
    )
    assert response.status == 431
    assert b"64 KiB" in response.body
    assert httpx.get(f"{world.yard.base_url}/healthz").status_code == 200


def _routes_with_auth(world: World) -> list[tuple[str, str]]:
    prefix = world.prefix
    rest = f"/v2/packages/organizations/{world.registry.organization}/registries"
    return [
        ("GET", f"{prefix}/pypi/simple/"),
        ("GET", f"{prefix}/pypi/simple/present/"),
        ("GET", f"{prefix}/pypi/files/{world.wheel}"),
        ("POST", f"{prefix}/pypi/legacy/"),
        ("GET", rest),
        ("GET", f"{rest}/{world.registry.slug}/packages"),
        ("POST", f"{rest}/{world.registry.slug}/packages"),
        ("GET", "/v2/access-token"),
    ]


@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_a_10_kb_token_is_401_on_every_route_and_never_echoed(world: World, scheme: str) -> None:
    secret = "pky_" + "A" * 10_000
    for method, path in _routes_with_auth(world):
        response = httpx.request(
            method,
            f"{world.yard.base_url}{path}",
            headers={"Authorization": f"{scheme} {secret}"},
        )
        assert response.status_code == 401, (method, path, response.status_code)
        assert "A" * 50 not in response.text


# -- path traversal ------------------------------------------------------------------------

TRAVERSALS = [
    b"..%2f..%2f..%2fpackyard.sqlite3",
    b"..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    b"%2e%2e%2f%2e%2e%2fstaging",
    b"..%5c..%5cpackyard.sqlite3",
    b"....//....//etc/passwd",
    b"%252e%252e%252fpackyard.sqlite3",
    b"present-1.0-py3-none-any.whl%00.metadata",
    b"..",
    b".",
]


@pytest.mark.parametrize("payload", TRAVERSALS, ids=lambda p: p.decode())
@pytest.mark.parametrize(
    "route",
    [
        b"{prefix}/pypi/files/{x}",
        b"{prefix}/pypi/files/{x}.metadata",
        b"{prefix}/pypi/simple/{x}/",
        b"/v2/packages/organizations/{org}/registries/{registry}/packages/{x}",
        b"/{x}/{x}/pypi/simple/",
    ],
)
def test_path_traversal_finds_nothing(world: World, route: bytes, payload: bytes) -> None:
    target = (
        route.replace(b"{prefix}", world.prefix.encode())
        .replace(b"{org}", world.registry.organization.encode())
        .replace(b"{registry}", world.registry.slug.encode())
        .replace(b"{x}", payload)
    )
    response = raw_request(
        world.yard.port, b"GET", target, [(b"Authorization", f"Bearer {world.writer}".encode())]
    )
    assert response.status in (301, 307, 308, 400, 401, 404), (target, response.status)
    assert b"SQLite format" not in response.body
    assert b"root:" not in response.body


# -- bytes that are not UTF-8 --------------------------------------------------------------


def test_non_utf8_bytes_in_the_path_query_and_headers_are_refused_cleanly(world: World) -> None:
    auth = (b"Authorization", f"Bearer {world.writer}".encode())
    cases: list[tuple[bytes, list[tuple[bytes, bytes]]]] = [
        (world.prefix.encode() + b"/pypi/simple/%ff%fe/", [auth]),
        (world.prefix.encode() + b"/pypi/files/%ff.whl", [auth]),
        (b"/%ff/%fe/pypi/simple/", [auth]),
        (world.prefix.encode() + b"/pypi/simple/?q=%ff\xff", [auth]),
        (world.prefix.encode() + b"/pypi/simple/", [(b"Authorization", b"Bearer \xff\xfe\x80")]),
        (world.prefix.encode() + b"/pypi/simple/", [(b"Authorization", b"Basic /////w==")]),
        (world.prefix.encode() + b"/pypi/simple/", [auth, (b"Accept", b"text/\xff\xfe")]),
        (
            f"/v2/packages/organizations/{world.registry.organization}/registries/%ff".encode(),
            [auth],
        ),
    ]
    for target, headers in cases:
        response = raw_request(world.yard.port, b"GET", target, headers)
        assert 200 <= response.status < 500, (target, headers, response.status)


@pytest.mark.parametrize(
    "field",
    [b"name", b"version", b":action", b"summary", b"\xff\xfename"],
)
def test_non_utf8_bytes_in_upload_form_fields_are_400(world: World, field: bytes) -> None:
    data = sdist_bytes(Dist("bytes", "1.0"))
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="' + field + b'"\r\n\r\n'
        b"\xff\xfe\x80value\r\n"
        + multipart_body(b"bytes-1.0.tar.gz", data).replace(b'name="file"', b'name="content"')
    )
    response = httpx.post(
        f"{world.yard.base_url}{world.prefix}/pypi/legacy/",
        auth=("__token__", world.writer),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        content=body,
    )
    assert response.status_code == 400, response.text
    assert "UTF-8" in response.text
    assert world.staging_is_empty()


def test_a_non_utf8_file_name_is_400(world: World) -> None:
    data = sdist_bytes(Dist("bytes", "1.0"))
    response = _multipart_post(world, multipart_body(b"\xff\xfe-1.0.tar.gz", data))
    assert response.status_code == 400
    assert "UTF-8" in response.json()["message"]


def test_no_request_above_caused_a_server_error(world: World) -> None:
    log = world.yard.log_path.read_text(errors="replace")
    assert "Traceback" not in log
    assert "Internal server error" not in log


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]

"""No work before authentication (security probe F2): a REST request with a body is
authenticated before the body is read, and bodies other than uploads are capped at 1 MiB
while they stream, so an anonymous 150 MB JSON post leaves the worker's memory flat."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import httpx

from tests.support.driver import Organization
from tests.support.raw_http import parse_response
from tests.support.server import PackyardServer
from tests.support.soak_load import rss_kib

BIG_BODY_BYTES = 150 * 1024 * 1024
CHUNK = b"d" * (1024 * 1024)
MAX_GROWTH_KIB = 32 * 1024  # the body is 150 MB; reading it would cost far more


@dataclass
class Streamed:
    """What came back while a big body was being sent, and the worker's peak RSS."""

    response: bytes = b""
    sent: int = 0
    peak_rss_kib: int = 0
    received: list[bytes] = field(default_factory=list)


def _stream_big_json(yard: PackyardServer, path: str, authorization: str | None) -> Streamed:
    """POST a 150 MB chunked JSON body, sampling the server's RSS after every MiB, until
    the server answers or the body is sent; the answer is read on another thread so that
    a server closing early does not lose it."""
    assert yard.process is not None
    result = Streamed(peak_rss_kib=rss_kib(yard.process.pid))
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{yard.port}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    ]
    if authorization:
        head.append(f"Authorization: {authorization}")
    with socket.create_connection(("127.0.0.1", yard.port), timeout=60) as sock:
        reader = threading.Thread(target=_read_into, args=(sock, result.received))
        reader.start()
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            sock.sendall(b'%x\r\n{"name":"x","description":"\r\n' % 27)
            while result.sent < BIG_BODY_BYTES and reader.is_alive():
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                result.sent += len(CHUNK)
                result.peak_rss_kib = max(result.peak_rss_kib, rss_kib(yard.process.pid))
            sock.sendall(b'2\r\n"}\r\n0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the point
        reader.join(timeout=60)
    result.response = b"".join(result.received)
    return result


def _read_into(sock: socket.socket, received: list[bytes]) -> None:
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return
        if not chunk:
            return
        received.append(chunk)


def test_an_anonymous_150_mb_json_post_is_refused_unread(
    yard: PackyardServer, org: Organization
) -> None:
    assert yard.process is not None
    before = rss_kib(yard.process.pid)
    streamed = _stream_big_json(yard, f"/v2/packages/organizations/{org.slug}/registries", None)
    answer = parse_response(streamed.response)
    assert answer.status == 401, streamed.response[:300]
    assert b"Authentication required" in answer.body
    assert streamed.peak_rss_kib - before < MAX_GROWTH_KIB
    assert streamed.sent < BIG_BODY_BYTES  # the server did not wait for the rest


def test_an_authenticated_json_body_past_1_mib_answers_413_while_streaming(
    yard: PackyardServer, org: Organization
) -> None:
    assert yard.process is not None
    token = org.token("write_registries")
    before = rss_kib(yard.process.pid)
    path = f"/v2/packages/organizations/{org.slug}/registries"
    streamed = _stream_big_json(yard, path, f"Bearer {token}")
    answer = parse_response(streamed.response)
    assert answer.status == 413, streamed.response[:300]
    assert b"at most 1024 KiB" in answer.body
    assert streamed.peak_rss_kib - before < MAX_GROWTH_KIB


def test_rest_writes_without_credentials_answer_401_before_the_body(
    yard: PackyardServer, org: Organization
) -> None:
    registry = org.registry("Bodies")
    url = f"{yard.base_url}/v2/packages/organizations/{org.slug}/registries/{registry.slug}"
    response = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json()["message"].startswith("Authentication required")
    wrong = httpx.post(url, json={}, headers={"Authorization": "Bearer pky_wrong"})
    assert wrong.status_code == 401


def test_small_json_bodies_still_work(yard: PackyardServer, org: Organization) -> None:
    token = org.token("write_registries", "read_registries")
    url = f"{yard.base_url}/v2/packages/organizations/{org.slug}/registries"
    created = httpx.post(
        url,
        json={"name": "Small", "ecosystem": "python", "description": "d" * 9000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 200, created.text
    assert created.json()["description"] == "d" * 9000

"""A webhook attempt ends by its deadline whatever the receiver does, so the claim that keeps
other processes from sending the same delivery can be sized to one attempt: a receiver
that trickles its answer a byte at a time (each byte well within the per-operation timeout)
cannot hold an attempt past it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpcore
import pytest

from packyard.services.webhook_http import WebhookHttp


@pytest.fixture
def trickler() -> Iterator[str]:
    """A receiver that reads the request, then sends its status line and headers one byte
    every 50 ms, for ever (until the client hangs up)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                if stop.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: what the test waits for
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    stop.set()
    listener.close()
    thread.join(5)


@pytest.mark.timeout(60)
def test_a_trickling_receiver_cannot_hold_an_attempt_past_its_deadline(trickler: str) -> None:
    http = WebhookHttp(timeout_seconds=10.0)
    try:
        with pytest.raises(httpcore.ReadTimeout):
            http.post(
                trickler,
                {"Host": "receiver", "Content-Length": "2"},
                b"{}",
                server_name="receiver",
                deadline=time.monotonic() + 1.0,
                keep=1024,
            )
    finally:
        http.close()


def test_an_attempt_whose_deadline_passed_connects_nowhere() -> None:
    http = WebhookHttp(timeout_seconds=10.0)
    try:
        with pytest.raises(httpcore.ConnectTimeout):
            http.post(
                "http://127.0.0.1:9/hook",
                {"Host": "receiver", "Content-Length": "0"},
                b"",
                server_name="receiver",
                deadline=time.monotonic() - 1.0,
                keep=1024,
            )
    finally:
        http.close()

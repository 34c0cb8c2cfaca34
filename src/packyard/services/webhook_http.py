"""One webhook request with a hard time limit, on httpcore (httpx's transport) directly.

httpx's timeouts bound each network operation, not a request: a receiver that answers a
byte at a time could hold an attempt for many times the timeout, while the claim that keeps
other processes from sending the same delivery (``db.webhooks.claim_due``) lasts a fixed
time. Here every connect, TLS handshake, write and read is given at most what is left
until the attempt's deadline, so no byte of an attempt is sent or read after it, and the
claim is sized to one attempt (``services.webhook_delivery.LEASE``). Going to httpcore
directly also spares the sender httpx's request and response models, about a third of its
CPU per delivery (``bench/webhook_sender_cpu.py``), which it spends while publishes wait.

One pool per sender (per process): connections to a receiver are kept open between
deliveries, and one TLS context (certifi's certificates, as httpx trusts) serves every
connection. Imported only when a process first sends (``webhook_delivery``).
"""

from __future__ import annotations

import math
import ssl
import time
import typing
from dataclasses import dataclass

import certifi
import httpcore
from httpcore import ConnectError

__all__ = ["FAILURES", "Answer", "ConnectError", "WebhookHttp"]

# Every error httpcore raises for the network or the receiver (never for our own faults).
FAILURES = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case; repeated ones joined by ", "
    body: bytes  # at most the bytes asked for; the rest was never read


class _Deadline:
    """The running attempt's deadline (monotonic seconds; infinite between attempts)."""

    at = math.inf

    def left(self, timeout: float | None, expired: type[Exception]) -> float:
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise expired("the attempt's time ran out")
        return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return _Stream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol("webhooks are sent over TCP")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class WebhookHttp:
    """POSTs webhook bodies, each request ending by the deadline it is given. Used by one
    thread at a time (the delivery job)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._deadline = _Deadline()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=20,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_Backend(self._deadline),
        )

    def post(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        *,
        server_name: str,
        deadline: float,
        keep: int,
    ) -> Answer:
        """POST ``body`` to ``url`` (a redirect is an answer, never followed) and read the
        answer's first ``keep`` bytes at most (a receiver cannot make us read a large or
        endless answer). Raises one of ``FAILURES`` when the receiver cannot be reached or
        answers badly, or ``deadline`` (monotonic seconds) passes first."""
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self._timeout)
        self._deadline.at = deadline
        try:
            with self._pool.stream(
                "POST",
                url,
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": timeouts, "sni_hostname": server_name},
            ) as response:
                kept = b""
                for chunk in response.iter_stream():
                    kept += chunk
                    if len(kept) >= keep:
                        break
                return Answer(response.status, _headers(response.headers), kept[:keep])
        finally:
            self._deadline.at = math.inf

    def close(self) -> None:
        self._pool.close()


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        found[key] = f"{found[key]}, {text}" if key in found else text
    return found

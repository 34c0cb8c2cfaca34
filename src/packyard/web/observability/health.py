"""``/healthz`` (the process answers) and ``/readyz`` (its database and blob store answer
within a deadline), in plain ASGI: load balancers and orchestrators call them every few
seconds, so they skip the framework, authentication and the access log.

Each readiness check runs in a worker thread. A check that hangs (a blob store that
accepts connections and never answers) is not started again while it runs: later probes
wait for the same attempt, so probes cannot pile up threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from packyard.services import metrics

log = logging.getLogger(__name__)

Check = Callable[[], None]
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


async def send_json(
    send: Send, status: int, document: object, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps(document).encode()
    headers = [*_JSON, *extra, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def healthz(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 200, {"status": "ok"})


class Readiness:
    def __init__(self, checks: dict[str, Check], deadline: float) -> None:
        self._checks = checks
        self._deadline = deadline
        self._running: dict[str, asyncio.Future[None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        failures = await self.failures()
        if failures:
            await send_json(send, 503, {"status": "unavailable", "failed": failures})
        else:
            await send_json(send, 200, {"status": "ok", "checked": sorted(self._checks)})

    async def failures(self) -> dict[str, str]:
        """Each check that failed or did not answer within the deadline, with why."""
        attempts = {name: self._attempt(name) for name in self._checks}
        await asyncio.wait(attempts.values(), timeout=self._deadline)
        failures: dict[str, str] = {}
        for name, attempt in attempts.items():
            if not attempt.done():
                failures[name] = f"did not answer within {self._deadline:g} s"
            elif attempt.exception() is not None:
                # The body is public: the error's class only; the log has its message.
                failures[name] = f"failed ({type(attempt.exception()).__name__})"
            else:
                continue
            metrics.READINESS_FAILURES.labels(name).inc()
        return failures

    def _attempt(self, name: str) -> asyncio.Future[None]:
        running = self._running.get(name)
        if running is not None and not running.done():
            return running
        attempt = asyncio.ensure_future(run_in_threadpool(self._checks[name]))
        attempt.add_done_callback(lambda done: _log_failure(name, done))
        self._running[name] = attempt
        return attempt


def _log_failure(name: str, attempt: asyncio.Future[None]) -> None:
    if not attempt.cancelled() and attempt.exception() is not None:
        error = attempt.exception()
        log.warning("Readiness check %s failed: %s: %s", name, type(error).__name__, error)

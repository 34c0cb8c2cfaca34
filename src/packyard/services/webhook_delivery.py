"""Sending the outbox: the background job that delivers due webhook deliveries.

``WebhookSender.run_due`` claims due deliveries (``db.webhooks.claim_due``: a claim lasts
``LEASE`` and counts the attempt), sends each outside any transaction, and records the
attempt: a 2xx is success; anything else (3xx included: redirects are never followed, a
timeout, a refused address) is tried again on Standard Webhooks' schedule with jitter
(``core.webhooks.retry_delay``) until it runs out; 410 Gone turns the hook off. A process
killed between its claim and the record of the attempt loses nothing: the claim expires
and the delivery is due again (at least once; receivers dedupe on ``webhook-id``).

The job runs in every process (``bootstrap``): claims, not a lease, keep two processes
from sending one delivery.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from packyard import __version__
from packyard.core.webhooks import (
    RESPONSE_BODY_KEPT,
    TIMEOUT_SECONDS,
    Attempt,
    DeliveryState,
    retry_delay,
    signed_headers,
)
from packyard.db import webhooks as queries
from packyard.db.webhooks import Claimed
from packyard.services.events import ENQUEUED
from packyard.services.webhook_addresses import RefusedDestination, destination

if TYPE_CHECKING:
    # Imported when a delivery is first sent: the job runs in every process, and most
    # servers have no webhooks (httpx costs a worker about 20 MiB).
    import httpx

log = logging.getLogger(__name__)

# Longer than one attempt can take (connect, send and read each within the timeout; the
# body read stops at RESPONSE_BODY_KEPT bytes), so a claim never lapses mid-send.
LEASE = timedelta(seconds=4 * TIMEOUT_SECONDS)
BATCH = 20
MAX_BATCHES_PER_RUN = 50  # then the job yields; it runs again at its next time
# A woken run waits this long before claiming, so that a burst of publishes goes out in a
# few batches (two writes each) rather than two writes per delivery, which on SQLite
# contend for the write lock with the publishes themselves (bench/webhook_cost.py).
COALESCE_SECONDS = 0.25
USER_AGENT = f"packyard-webhooks/{__version__}"


class WebhookSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        *,
        allow_private: bool,
        retry_scale: float = 1.0,
        jitter: Callable[[], float] = random.random,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._allow_private = allow_private
        self._jitter = jitter
        self._retry_scale = retry_scale
        self._coalesce_seconds = coalesce_seconds
        self._woken = False
        self._client: httpx.Client | None = None
        # Called after a commit that wrote deliveries (bootstrap: wakes the job).
        self.wake: Callable[[], None] = lambda: None

    def committed(self, session: Session) -> None:
        """SQLAlchemy's ``after_commit`` hook of every session: wake the job when the
        transaction wrote deliveries (``services.events.ENQUEUED``), so they go out at
        once, after the answer, rather than at the next poll."""
        if session.info.pop(ENQUEUED, False):
            self._woken = True
            self.wake()

    @staticmethod
    def rolled_back(session: Session) -> None:
        session.info.pop(ENQUEUED, None)

    def run_due(self) -> int:
        """Send what is due now; how many attempts were made."""
        if self._woken:
            self._woken = False
            time.sleep(self._coalesce_seconds)
        sent = 0
        for _ in range(MAX_BATCHES_PER_RUN):
            claim = uuid.uuid4().hex
            now = self._now()
            with self._sessions.begin() as session:
                claimed = queries.claim_due(session, claim, now, now + LEASE, BATCH)
            # Sent one after another, then recorded in one transaction: under a burst of
            # publishes the outbox costs two writes per batch, not two per delivery.
            done = [(delivery, self._attempt(delivery)) for delivery in claimed]
            if done:
                with self._sessions.begin() as session:
                    for delivery, attempt in done:
                        self._record(session, delivery, attempt)
                    for hook_id in {delivery.webhook_id for delivery in claimed}:
                        queries.prune(session, hook_id)
            sent += len(claimed)
            if len(claimed) < BATCH:
                break
        return sent

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _record(self, session: Session, delivery: Claimed, attempt: Attempt) -> None:
        """The attempt, and what follows: done, tried again later, or given up."""
        succeeded = attempt.status is not None and 200 <= attempt.status < 300
        gone = attempt.status == 410
        refused = attempt.error is not None and attempt.error.startswith("refused")
        delay = None
        if not (succeeded or gone or refused):
            delay = retry_delay(delivery.attempts, self._jitter())
        if succeeded:
            state = DeliveryState.SUCCEEDED
        elif delay is None:
            state = DeliveryState.FAILED
        else:
            state = DeliveryState.PENDING
        due = None if delay is None else self._now() + timedelta(seconds=delay * self._retry_scale)
        reason = "The receiver answered 410 Gone" if gone else None
        queries.finish_attempt(session, delivery, attempt, state, due, reason)

    def _attempt(self, delivery: Claimed) -> Attempt:
        """One request, and what came back; never raises for the receiver's faults."""
        body = delivery.body.encode()
        timestamp = int(time.time())
        headers = signed_headers(
            delivery.secret, delivery.id, delivery.event, timestamp, body, USER_AGENT
        )
        # The signatures identify nothing secret, but the history needs none of them.
        shown = {k: v for k, v in headers.items() if "signature" not in k.lower()}
        started = time.monotonic()
        at = self._now()

        def outcome(
            status: int | None = None,
            response_headers: dict[str, str] | None = None,
            text: str = "",
            error: str | None = None,
        ) -> Attempt:
            elapsed = int((time.monotonic() - started) * 1000)
            return Attempt(
                delivery.attempts, at, shown, status, response_headers or {}, text, elapsed, error
            )

        try:
            target = destination(delivery.url, self._allow_private)
        except RefusedDestination as refused:
            return outcome(error=f"refused: {refused}")
        import httpx

        failure: httpx.HTTPError | None = None
        for url in target.urls:  # each checked address in turn, as a connection would
            try:
                with self._http().stream(
                    "POST",
                    url,
                    content=body,
                    headers={**headers, "Host": target.host_header},
                    extensions={"sni_hostname": target.server_name},
                ) as got:
                    kept = _first_bytes(got, RESPONSE_BODY_KEPT)
                    text = kept.decode("utf-8", "replace")
                    return outcome(got.status_code, dict(got.headers), text)
            except httpx.ConnectError as error:
                failure = error  # nothing was sent: the next address may answer
            except httpx.HTTPError as error:
                failure = error
                break
        return outcome(error=f"{type(failure).__name__}: {failure}"[:500])

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                timeout=httpx.Timeout(TIMEOUT_SECONDS),
                follow_redirects=False,
                # Identity: the body kept is the first bytes as sent, never inflated.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            )
        return self._client


def _first_bytes(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the body; the rest is never read (a receiver cannot
    make us read a large or endless answer)."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= limit:
            break
    return kept[:limit]

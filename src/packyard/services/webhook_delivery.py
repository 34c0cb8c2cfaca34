"""Sending the outbox: the background job that delivers due webhook deliveries.

``WebhookSender.run_due`` claims due deliveries (``db.webhooks.claim_due``: a claim lasts
``LEASE`` and counts the attempt), sends each outside any transaction, and records the
attempts of a batch together: a 2xx is success; anything else (3xx included: redirects are
never followed, a timeout, a refused address) is tried again on Standard Webhooks' schedule
with jitter (``core.webhooks.retry_delay``) until it runs out; 410 Gone turns the hook off.
A process killed between its claim and the record of the attempt loses nothing: the claim
expires and the delivery is due again (at least once; receivers dedupe on ``webhook-id``).

Sent once: an attempt has a hard deadline (``TIMEOUT_SECONDS``, ``webhook_http``) and starts
only while its claim has that long left and ``CLAIM_SLACK`` more, so no other process can
claim a delivery while this one may still send it; deliveries of a batch left without that
time are handed back unsent, and a record is written only under this sender's own claim.

It makes way for requests: the job runs in the processes that answer them, and publishing
at full speed keeps both cores busy, so before each batch, and before each delivery when the
server got busy, it waits until no process of the server answers a request (``ServerLoad``:
a worker with nothing to answer would otherwise send its busy sibling's deliveries), at most
``MAX_DEFER_SECONDS`` per run: on an idle server a delivery leaves tens of milliseconds after
the publish's answer, on a busy one after the burst or at most that late, in batches.

The job runs in every process (``bootstrap``): claims, not a lease, keep two processes from
sending one delivery.
"""

from __future__ import annotations

import base64
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

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
from packyard.db.webhooks import Claimed, Finished
from packyard.services import metrics
from packyard.services.events import ENQUEUED
from packyard.services.process_load import RequestActivity, ServerLoad
from packyard.services.webhook_addresses import RefusedDestination, destination

if TYPE_CHECKING:
    # Imported when a delivery is first sent: the job runs in every process, and most
    # servers have no webhooks (an HTTP client costs a worker megabytes).
    from packyard.services.webhook_http import WebhookHttp

log = logging.getLogger(__name__)

# What a claim must still have when an attempt starts, beyond the attempt itself: the time
# between reading the clock and the claim's commit, and clocks of processes that differ a
# little.
CLAIM_SLACK = timedelta(seconds=2)
# One attempt and its slack, and a few seconds in which the attempts of a batch may start
# (a batch to healthy receivers takes milliseconds; slow ones get the rest handed back).
LEASE = timedelta(seconds=TIMEOUT_SECONDS) + CLAIM_SLACK + timedelta(seconds=3)
BATCH = 20
MAX_BATCHES_PER_RUN = 50  # then the job yields; it runs again at its next time
# How long a run may wait for the server to be quiet before it sends anyway.
MAX_DEFER_SECONDS = 5.0
USER_AGENT = f"packyard-webhooks/{__version__}"


class WebhookSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        *,
        allow_private: bool,
        activity: RequestActivity,
        retry_scale: float = 1.0,
        jitter: Callable[[], float] = random.random,
        max_defer_seconds: float = MAX_DEFER_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._allow_private = allow_private
        self._activity = activity
        self._jitter = jitter
        self._retry_scale = retry_scale
        self._max_defer_seconds = max_defer_seconds
        self._client: WebhookHttp | None = None
        self._pending: int | None = None  # the outbox as this process last counted it
        # Called after a commit that wrote deliveries (bootstrap: wakes the job).
        self.wake: Callable[[], None] = lambda: None

    def committed(self, session: Session) -> None:
        """SQLAlchemy's ``after_commit`` hook of every session: wake the job when the
        transaction wrote deliveries (``services.events.ENQUEUED``), so they go out at
        once, after the answer, rather than at the next poll."""
        if session.info.pop(ENQUEUED, False):
            self.wake()

    @staticmethod
    def rolled_back(session: Session) -> None:
        session.info.pop(ENQUEUED, None)

    def run_due(self) -> int:
        """Send what is due now; how many attempts were made."""
        load = ServerLoad(self._activity)
        defer_until = time.monotonic() + self._max_defer_seconds
        sent = claimed_any = 0
        for _ in range(MAX_BATCHES_PER_RUN):
            load.wait_until_quiet(defer_until)
            claim = uuid.uuid4().hex
            now = self._now()
            lease_until = now + LEASE
            with self._sessions.begin() as session:
                claimed = queries.claim_due(session, claim, now, lease_until, BATCH)
            claimed_any += len(claimed)
            finished, unsent = self._send(claimed, lease_until, load, defer_until)
            # Recorded in one transaction: under a burst of publishes the outbox costs two
            # writes per batch, not two per delivery.
            if claimed:
                with self._sessions.begin() as session:
                    queries.finish_attempts(session, claim, finished)
                    queries.hand_back(session, claim, unsent, self._now())
                    for hook_id in {f.claimed.webhook_id for f in finished}:
                        queries.prune(session, hook_id)
                given_up = sum(f.state is DeliveryState.FAILED for f in finished)
                if given_up:
                    metrics.WEBHOOK_FAILED.inc(given_up)
            sent += len(finished)
            if len(claimed) < BATCH or not finished:
                break
        # Counted again only when it may have changed here: a poll that claimed nothing
        # from an outbox last seen empty leaves the count alone (a delivery enqueued in
        # another process wakes that process's sender, which counts).
        if claimed_any or self._pending != 0:
            with self._sessions() as session:
                self._pending = queries.pending_count(session)
            metrics.WEBHOOK_PENDING.set(self._pending)
        return sent

    def _send(
        self, claimed: list[Claimed], lease_until: datetime, load: ServerLoad, defer_until: float
    ) -> tuple[list[Finished], list[Claimed]]:
        """Attempt each claimed delivery that its claim leaves time for, one after another,
        making way for requests first when the server got busy; (what became of those
        attempted, those not attempted)."""
        finished: list[Finished] = []
        unsent: list[Claimed] = []
        latest_start = lease_until - CLAIM_SLACK - timedelta(seconds=TIMEOUT_SECONDS)
        for delivery in claimed:
            if load.busy():
                # Waiting may not use up the claim: a second is left to start the attempt.
                room = (latest_start - self._now()).total_seconds() - 1.0
                load.wait_until_quiet(min(defer_until, time.monotonic() + room))
            if self._now() > latest_start:
                unsent.append(delivery)
                continue
            finished.append(self._outcome(delivery, self._attempt(delivery)))
        return finished, unsent

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _outcome(self, delivery: Claimed, attempt: Attempt) -> Finished:
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
        return Finished(delivery, attempt, state, due, reason)

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
        deadline = started + TIMEOUT_SECONDS
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
        sent = {
            **headers,
            **_basic_auth(delivery.url),
            "Host": target.host_header,
            # Identity: the body kept is the first bytes as sent, never inflated.
            "Accept-Encoding": "identity",
            "Content-Length": str(len(body)),
        }
        from packyard.services.webhook_http import FAILURES, ConnectError

        failure: Exception | None = None
        for url in target.urls:  # each checked address in turn, as a connection would
            try:
                got = self._http().post(
                    url,
                    sent,
                    body,
                    server_name=target.server_name,
                    deadline=deadline,
                    keep=RESPONSE_BODY_KEPT,
                )
                return outcome(got.status, got.headers, got.body.decode("utf-8", "replace"))
            except ConnectError as error:
                failure = error  # nothing was sent: the next address may answer
            except FAILURES as error:
                failure = error
                break
        return outcome(error=f"{type(failure).__name__}: {failure}"[:500])

    def _http(self) -> WebhookHttp:
        if self._client is None:
            from packyard.services.webhook_http import WebhookHttp

            self._client = WebhookHttp(TIMEOUT_SECONDS)
        return self._client


def _basic_auth(url: str) -> dict[str, str]:
    """Credentials in the hook's URL become the request's basic auth, as a browser does."""
    parts = urlsplit(url)
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

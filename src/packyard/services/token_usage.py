"""When each token was last used, recorded without a database write per request.

``record`` only notes the time in memory, and at most once per token per
``RECORD_INTERVAL``; ``flush`` writes what was noted in one short transaction, on the same
timer as download counts and at shutdown. A token used all day costs one write a minute in
each process, not one per index request. Several processes only ever move the stored time
forward.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from packyard.db.tokens import note_last_used
from packyard.services.write_buffer import Throttle, WriteBuffer

RECORD_INTERVAL = timedelta(minutes=1)
# Bounds memory when very many tokens are used; forgetting only costs one extra write.
MAX_REMEMBERED_TOKENS = 100_000


class TokenUsage:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        interval: timedelta = RECORD_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._throttle: Throttle[str] = Throttle(interval, MAX_REMEMBERED_TOKENS)
        self._pending: WriteBuffer[str, datetime] = WriteBuffer(max)

    def record(self, token_id: str) -> None:
        """Note that ``token_id`` was used now (throttled; never touches the database)."""
        now = self._now()
        if self._throttle.due(token_id, now):
            self._pending.note(token_id, now)

    def pending(self, token_id: str) -> datetime | None:
        """A use noted in this process and not yet written, if any."""
        return self._pending.get(token_id)

    def flush(self) -> None:
        """Write noted uses; on failure they are kept for the next flush."""
        self._pending.flush(self._write)

    def _write(self, uses: dict[str, datetime]) -> None:
        with self._sessions.begin() as session:
            note_last_used(session, uses)

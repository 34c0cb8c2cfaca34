"""Token last-use times are noted in memory at most once a minute per token and written in
batches, so authenticating never adds a database write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from packyard.db.engine import make_engine, make_session_factory
from packyard.db.tables import Base, OrganizationRow, TokenRow
from packyard.services.token_usage import TokenUsage
from tests.support.clock import Clock

START = datetime(2026, 1, 1, tzinfo=UTC)


def _database(tmp_path: Path) -> tuple[sessionmaker[Session], list[str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'usage.sqlite3'}")
    Base.metadata.create_all(engine)
    statements: list[str] = []

    def remember(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", remember)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(OrganizationRow(id="org", slug="org", name="org", created_at=START))
        session.flush()
        session.add(
            TokenRow(
                id="token",
                organization_id="org",
                secret_sha256="0" * 64,
                scopes=[],
                description="",
                created_at=START,
            )
        )
    statements.clear()
    return sessions, statements


def _stored(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as session:
        return session.scalar(select(TokenRow.last_used_at).where(TokenRow.id == "token"))


def test_recording_a_use_touches_no_database(tmp_path: Path) -> None:
    sessions, statements = _database(tmp_path)
    usage = TokenUsage(sessions, Clock())
    for _ in range(1000):
        usage.record("token")
    assert statements == []
    assert usage.pending("token") == START


def test_uses_within_a_minute_are_one_write(tmp_path: Path) -> None:
    sessions, statements = _database(tmp_path)
    clock = Clock()
    usage = TokenUsage(sessions, clock)
    usage.record("token")
    clock.now = START + timedelta(seconds=59)
    usage.record("token")
    usage.flush()
    assert _stored(sessions) == START
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in statements) == 1
    usage.flush()  # nothing pending: no transaction at all
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in statements) == 1


def test_a_use_a_minute_later_moves_the_time_forward(tmp_path: Path) -> None:
    sessions, _ = _database(tmp_path)
    clock = Clock()
    usage = TokenUsage(sessions, clock)
    usage.record("token")
    usage.flush()
    clock.now = START + timedelta(minutes=1)
    usage.record("token")
    usage.flush()
    assert _stored(sessions) == START + timedelta(minutes=1)


def test_an_older_time_from_another_process_never_moves_it_back(tmp_path: Path) -> None:
    sessions, _ = _database(tmp_path)
    late, early = Clock(), Clock()
    late.now = START + timedelta(minutes=5)
    first = TokenUsage(sessions, late)
    first.record("token")
    first.flush()
    second = TokenUsage(sessions, early)
    second.record("token")
    second.flush()
    assert _stored(sessions) == START + timedelta(minutes=5)

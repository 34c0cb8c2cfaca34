"""Leases: the database row that lets one process of a cluster run a job at a time.

``acquire`` is one statement on both engines (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``):
it inserts the lease, or takes it over when it has expired, or renews it for its own
holder, and tells whether the caller holds it now. Two processes racing for it cannot
both win: the database serialises the conflicting writes on the primary key.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from packyard.db.tables import LeaseRow
from packyard.db.upserts import dialect_insert

_LEASES = cast(Table, LeaseRow.__table__)


def acquire(session: Session, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``until`` when it is free,
    expired at ``now`` or already ``holder``'s. Returns whether ``holder`` holds it; the
    caller commits."""
    insert = dialect_insert(session.get_bind().dialect.name, _LEASES)
    statement = insert.values(name=name, holder=holder, expires_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=[_LEASES.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=(_LEASES.c.expires_at <= now) | (_LEASES.c.holder == holder),
    ).returning(_LEASES.c.holder)
    # A row comes back only when this statement inserted or updated the lease.
    return session.execute(statement).scalar_one_or_none() == holder


def hold_until(session: Session, name: str, holder: str, until: datetime) -> None:
    """Move the end of ``holder``'s lease ``name`` to ``until`` (a past moment frees it);
    a lease someone else took meanwhile is left alone. The caller commits."""
    session.execute(
        update(_LEASES)
        .where(_LEASES.c.name == name, _LEASES.c.holder == holder)
        .values(expires_at=until)
    )

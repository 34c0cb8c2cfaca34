"""``ProjectSerials``: each process's memo of the per-project serials of source registries
(``db.project_serials``), so that a project's cached index page is found under its own
serial without a query, and a change to one project of a registry leaves the pages of the
others cached.

The memo of a registry holds the serials of its projects as of one registry serial. It is
exact for any request whose registry serial (validated per request by ``ReadAccess`` and
the change counter) is not above the memo's; otherwise ``cached`` answers None, and
``current`` (in the thread pool) advances it with one statement: the registry's serial now
and the projects whose serial is above the memo's. A retention run's batch or a publish
thus costs one small query per process, not a re-rendering of every page.

Extend it by making every writer name its projects in ``db.registries.bump_serial``.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.models import Registry
from packyard.db.project_serials import serials_since
from packyard.services.single_flight import SingleFlight

# Registries whose projects' serials a process keeps; the least recently added go first.
MAX_REGISTRIES = 256


class _Memo:
    """The projects' serials of one registry as of its serial ``serial`` (a project not
    named has serial 0). Entries are updated before ``serial`` is raised, so a reader that
    sees the new serial finds them (readers take no lock)."""

    __slots__ = ("serial", "serials")

    def __init__(self, serial: int, serials: dict[str, int]) -> None:
        self.serial = serial
        self.serials = serials


class ProjectSerials:
    def __init__(
        self, sessions: sessionmaker[Session], max_registries: int = MAX_REGISTRIES
    ) -> None:
        self._sessions = sessions
        self._max_registries = max_registries
        self._memos: dict[str, _Memo] = {}
        self._lock = threading.Lock()
        self._advancing: SingleFlight[str, None] = SingleFlight()

    def cached(self, registry: Registry, project: str) -> int | None:
        """The serial of ``project`` (normalised) when the memo is as new as ``registry``'s
        serial; None otherwise. No query: safe on the event loop."""
        memo = self._memos.get(registry.id)
        if memo is None or memo.serial < registry.serial:
            return None
        return memo.serials.get(project, 0)

    def current(self, registry: Registry, project: str) -> int:
        """The serial of ``project`` (normalised), advancing the memo to the registry's
        serial now when it is behind ``registry``'s (one query; concurrent callers share
        it). Run it in the thread pool. Raises NotFound when the registry is gone."""
        while True:
            known = self.cached(registry, project)
            if known is not None:
                return known
            # The database's serial is never below one it answered before: one pass is
            # enough, or two when a caller joined a query that began before its serial.
            self._advancing.run(registry.id, lambda: self._advance(registry))

    def _advance(self, registry: Registry) -> None:
        memo = self._memos.get(registry.id)
        with self._sessions() as session:
            found = serials_since(session, registry.id, 0 if memo is None else memo.serial)
        if found is None:
            raise NotFound(f"No registry {registry.slug!r}")
        if memo is not None:
            memo.serials.update(found.changed)
            memo.serial = max(memo.serial, found.serial)
            return
        with self._lock:
            if len(self._memos) >= self._max_registries:
                del self._memos[next(iter(self._memos))]
            self._memos[registry.id] = _Memo(found.serial, dict(found.changed))

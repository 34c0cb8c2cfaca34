"""What most use-case services hold: the database's sessions, the registry service that
finds an organization or registry for a caller (the one permission decision runs there),
and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from packyard.services.registries import RegistryService


class ScopedService:
    """Base of the services whose every call starts from a caller's organization or
    registry, found through ``RegistryService``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now

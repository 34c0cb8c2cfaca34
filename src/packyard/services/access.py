"""Read access on the index's hot path: credential + organization + registry in one query,
remembered while the database is unchanged.

Every index and file request must learn who is calling and which registry (with its
serial) they may read. ``TokenService.authenticate`` and ``RegistryService.registry_for``
answer that in two queries; here one query answers it, and the answer is kept in memory
tagged with the database's change counter (``db.changes``: SQLite's ``data_version``,
PostgreSQL's notifications). A cached answer is used only while that counter is
unchanged, so a revoked token, a changed scope or a new upload is seen by the very next
request in every process. While there is no counter, nothing is cached and each request
costs the one query.

Only successes are cached or answered here: any miss (unknown token, unknown registry,
access refused) goes through the services' own checks, which raise the exact errors.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.models import ANONYMOUS, Principal, Registry
from packyard.core.permissions import Disclosure, allowed
from packyard.core.scopes import Scope
from packyard.db.index import registry_and_reader
from packyard.db.tokens import hash_secret
from packyard.services.memo import CounterValidatedMemo
from packyard.services.registries import RegistryService
from packyard.services.tokens import MAX_SECRET_LENGTH, TokenService

CacheKey = tuple[str | None, str, str]


class ReadAccess:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tokens: TokenService,
        registries: RegistryService,
        change_counter: Callable[[], int | None],
        max_entries: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._tokens = tokens
        self._registries = registries
        # key -> (registry, id of the token that reads it)
        self._memo: CounterValidatedMemo[CacheKey, tuple[Registry, str | None]] = (
            CounterValidatedMemo(change_counter, max_entries)
        )

    def cached(self, secret: str | None, organization: str, registry: str) -> Registry | None:
        """The registry if an unchanged database already said ``secret`` may read it; else
        None. Costs no query: cheap enough to call on the event loop."""
        hit = self._memo.get(_key(secret, organization, registry))
        if hit is None:
            return None
        self._note_use(hit[1])
        return hit[0]

    def _note_use(self, token_id: str | None) -> None:
        """Tokens' last use is noted in memory (flushed in batches), hit or miss alike."""
        if token_id is not None:
            self._tokens.usage.record(token_id)

    def readable_registry(
        self, secret: str | None, organization: str, registry: str, base_url: str | None = None
    ) -> Registry:
        """The registry ``secret`` (None: anonymous) may read packages of.

        Raises Unauthenticated, NotFound or PermissionDenied as the token and registry
        services do.
        """
        counter = self._memo.counter()
        key = _key(secret, organization, registry)
        looked_up = self._lookup(key)
        if looked_up is None:
            principal = ANONYMOUS if secret is None else self._tokens.authenticate(secret, base_url)
            return self._registries.registry_for(
                principal, organization, registry, Scope.READ_PACKAGES, Disclosure.INSTALLER
            )
        found, token_id = looked_up
        self._note_use(token_id)
        self._memo.put(key, counter, (found, token_id))
        return found

    def _lookup(self, key: CacheKey) -> tuple[Registry, str | None] | None:
        """One query: the registry and the token; None unless access is allowed."""
        secret_sha256, organization, registry = key
        if secret_sha256 == _TOO_LONG:
            return None
        with self._sessions() as session:
            found = registry_and_reader(session, organization, registry, secret_sha256)
        if found is None:
            return None
        target, reader = found
        principal: Principal | None = ANONYMOUS if secret_sha256 is None else reader
        if principal is None or not allowed(
            principal, Scope.READ_PACKAGES, target, Disclosure.INSTALLER
        ):
            return None
        return target, principal.token_id


_TOO_LONG = "-"


def _key(secret: str | None, organization: str, registry: str) -> CacheKey:
    if secret is None:
        return (None, organization, registry)
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return (_TOO_LONG, organization, registry)
    return (hash_secret(secret), organization, registry)

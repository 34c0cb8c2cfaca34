"""Access on the hot paths: credential + organization + registry in one query; for reads,
remembered while the database is unchanged.

Every index and file request must learn who is calling and which registry (with its
serial) they may read. ``TokenService.authenticate`` and ``RegistryService.registry_for``
answer that in two queries; here one query answers it, and the answer is kept in memory
tagged with the database's change counter (``db.changes``: SQLite's ``data_version``,
PostgreSQL's notifications). A cached answer is used only while that counter is
unchanged, so a revoked token, a changed scope or a new upload is seen by the very next
request in every process. While there is no counter, nothing is cached and each request
costs the one query.

An upload (``registry_and_principal`` with ``write_packages``) takes the same one query
but nothing is remembered: each publish changes the database, so the next upload would
find the memo forgotten anyway.

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
from packyard.services.single_flight import SingleFlight
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
        self._lookups: SingleFlight[tuple[CacheKey, int], tuple[Registry, Principal] | None] = (
            SingleFlight()
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
        if counter is None:
            looked_up = self._lookup(key, Scope.READ_PACKAGES)
        else:
            # Misses at one counter value share one query: a change forgets every answer in
            # every process at once, and each of a download load's 64 clients would run it
            # (PostgreSQL, c=64: p99 91-190 ms -> 8-59 ms, 3 runs each). A caller that
            # joins has seen no change since the query started, as for a memo hit.
            looked_up = self._lookups.run(
                (key, counter), lambda: self._lookup(key, Scope.READ_PACKAGES)
            )
        if looked_up is None:
            return self._checked(secret, organization, registry, Scope.READ_PACKAGES, base_url)[0]
        found, principal = looked_up
        self._note_use(principal.token_id)
        self._memo.put(key, counter, (found, principal.token_id))
        return found

    def registry_and_principal(
        self,
        secret: str | None,
        organization: str,
        registry: str,
        scope: Scope,
        base_url: str | None = None,
    ) -> tuple[Registry, Principal]:
        """The registry ``secret`` (None: anonymous) may use ``scope`` on, and who that
        is, in one query when access is allowed; nothing is remembered.

        Raises Unauthenticated, NotFound or PermissionDenied as the token and registry
        services do.
        """
        looked_up = self._lookup(_key(secret, organization, registry), scope)
        if looked_up is None:
            return self._checked(secret, organization, registry, scope, base_url)
        self._note_use(looked_up[1].token_id)
        return looked_up

    def _checked(
        self,
        secret: str | None,
        organization: str,
        registry: str,
        scope: Scope,
        base_url: str | None,
    ) -> tuple[Registry, Principal]:
        """The services' own checks (two queries), which raise the exact error of a miss."""
        principal = ANONYMOUS if secret is None else self._tokens.authenticate(secret, base_url)
        found = self._registries.registry_for(
            principal, organization, registry, scope, Disclosure.INSTALLER
        )
        return found, principal

    def _lookup(self, key: CacheKey, scope: Scope) -> tuple[Registry, Principal] | None:
        """One query: the registry and the token's principal; None unless ``scope`` is
        allowed."""
        secret_sha256, organization, registry = key
        if secret_sha256 == _TOO_LONG:
            return None
        with self._sessions() as session:
            found = registry_and_reader(session, organization, registry, secret_sha256)
        if found is None:
            return None
        target, reader = found
        principal: Principal | None = ANONYMOUS if secret_sha256 is None else reader
        if principal is None or not allowed(principal, scope, target, Disclosure.INSTALLER):
            return None
        return target, principal


_TOO_LONG = "-"


def _key(secret: str | None, organization: str, registry: str) -> CacheKey:
    if secret is None:
        return (None, organization, registry)
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return (_TOO_LONG, organization, registry)
    return (hash_secret(secret), organization, registry)

"""Trusted publishing: a CI job's OIDC token as a credential, checked against the policies
registries store.

One-phase (Buildkite's way): a JWT whose ``aud`` is a registry's URL acts on that registry
with the scopes of the first policy statement it matches. Two-phase (PyPI's way):
``mint`` exchanges a JWT (``aud`` = the server's audience) for a 15-minute token that may
publish to every registry whose policy grants ``write_packages`` to those claims; each
JWT id mints once, and ``burn`` revokes a minted token at once. Both become a Principal
of kind OIDC whose grants ``core.permissions.allowed`` reads.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, TokenExchangeFailed, Unauthenticated
from packyard.core.events import EventType, Subject
from packyard.core.models import Principal, PrincipalKind, Publisher, Registry
from packyard.core.names import is_slug
from packyard.core.oidc_policy import Policy, parse_policy
from packyard.core.permissions import Disclosure, require
from packyard.core.publishers import publisher_from_json, publisher_json
from packyard.core.scopes import Scope
from packyard.db import oidc as queries
from packyard.services.events import record
from packyard.services.oidc_keys import OidcVerifier, VerifiedToken, unverified_claims
from packyard.services.registries import RegistryService

MINTED_PREFIX = "pkyo_"
MINTED_LIFETIME = timedelta(minutes=15)
ONE_PHASE_MAX_LIFETIME = 5 * 60
# Claims that say who published, per CI system; the first ones present are recorded.
IDENTIFYING_CLAIMS = (
    "repository",
    "workflow_ref",
    "ref",
    "project_path",
    "ci_config_ref_uri",  # GitLab: the pipeline file, matched against attestations
    "pipeline_slug",
    "build_number",
    "organization_slug",
    "job_workflow_ref",
    "sub",
)


@dataclass(frozen=True, slots=True)
class Minted:
    token: str
    expires: datetime


class OidcService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        verifier: OidcVerifier,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._verifier = verifier
        self._now = now

    def close(self) -> None:
        self._verifier.close()

    # Policies -------------------------------------------------------------------------

    def policy_text(self, registry: Registry) -> str | None:
        return self.policy_texts([registry]).get(registry.id)

    def policy_texts(self, registries: Sequence[Registry]) -> dict[str, str]:
        """The policies of ``registries`` that have one, by registry id: one query."""
        if not registries:
            return {}
        with self._sessions() as session:
            return queries.policy_texts(session, [r.id for r in registries])

    def set_policy(self, principal: Principal, registry: Registry, text: str | None) -> None:
        """``save_policy`` for a caller who must hold write_registries on the registry."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        self.save_policy(registry, text, principal)

    def save_policy(self, registry: Registry, text: str | None, by: Principal) -> None:
        """Store (or, for None or blank text, remove) a registry's policy; ``by`` has been
        allowed to update the registry. Raises ValidationFailed for a policy that does not
        parse."""
        wanted = text if text is not None and text.strip() else None
        if wanted is not None:
            parse_policy(wanted)
        with self._sessions.begin() as session:
            before = queries.set_policy_text(session, registry.id, wanted, self._now())
            if before != wanted:
                self._record_policy(session, by, registry, before, wanted)

    def _record_policy(
        self,
        session: Session,
        by: Principal,
        registry: Registry,
        before: str | None,
        after: str | None,
    ) -> None:
        record(
            session,
            by,
            EventType.REGISTRY_OIDC_POLICY_UPDATED,
            organization_id=registry.organization_id,
            subject=Subject("registry", registry.id, registry.slug),
            registry=registry,
            changes={"oidc_policy": (before, after)},
            now=self._now(),
        )

    # One-phase ------------------------------------------------------------------------

    def one_phase_principal(self, token: str, base_url: str | None) -> Principal:
        """The principal of a JWT sent as a credential: its audience names the registry
        (of a list of audiences, the first that is a URL of this server)."""
        audience = _our_audience(unverified_claims(token).get("aud"), base_url)
        # Verified first: what an unsigned token learns must not depend on which
        # registries exist.
        verified = self._verifier.verify(token, audience, ONE_PHASE_MAX_LIFETIME)
        registry = self._audience_registry(audience, base_url)
        scopes = self._scopes(registry, verified)
        if scopes is None:
            raise Unauthenticated(
                "OIDC token refused: its claims match no statement of the registry's OIDC policy"
            )
        return Principal(
            kind=PrincipalKind.OIDC,
            organization_id=registry.organization_id,
            grants=frozenset((registry.id, scope) for scope in scopes),
            publisher=publisher_of(verified),
        )

    def _audience_registry(self, audience: str, base_url: str | None) -> Registry:
        refused = Unauthenticated(
            f"OIDC token refused: its audience (aud) {audience!r} is not the URL of a "
            f"registry here ({base_url or 'this server'}/ORGANIZATION/REGISTRY)"
        )
        if base_url is None or not audience.startswith(base_url.rstrip("/") + "/"):
            raise refused
        path = urlsplit(audience).path.strip("/").split("/")
        if (
            len(path) < 2
            or not (is_slug(path[-2]) and is_slug(path[-1]))
            or audience.rstrip("/") != f"{base_url.rstrip('/')}/{path[-2]}/{path[-1]}"
        ):
            raise refused
        try:
            return self._registries.find_registry(path[-2], path[-1])
        except NotFound:
            raise refused from None

    def _scopes(self, registry: Registry, verified: VerifiedToken) -> frozenset[Scope] | None:
        text = self.policy_text(registry)
        if text is None:
            return None
        return _parsed(text).scopes_for(verified.issuer, verified.claims)

    # Two-phase ------------------------------------------------------------------------

    def mint(self, token: str, audience: str) -> Minted:
        """A 15-minute publishing token for every registry whose policy gives these claims
        write_packages. Raises TokenExchangeFailed with Warehouse's codes."""
        try:
            verified = self._verifier.verify(token, audience)
        except Unauthenticated as error:
            raise TokenExchangeFailed("invalid-token", error.message) from None
        registry_ids = self._writable_registries(verified)
        if not registry_ids:
            raise TokenExchangeFailed(
                "invalid-publisher",
                "valid token, but no registry's OIDC policy grants write_packages to it",
            )
        jti = verified.claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise TokenExchangeFailed("invalid-token", "OIDC token refused: it lacks the jti claim")
        secret = MINTED_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        expires = now + MINTED_LIFETIME
        try:
            minted = queries.MintedToken(
                str(uuid.uuid4()),
                registry_ids,
                publisher_json(publisher_of(verified)) or {},
                expires,
            )
            jti_expires = _claim_time(verified.claims["exp"]) + timedelta(minutes=1)
            with self._sessions.begin() as session:
                queries.add_minted_token(
                    session, verified.issuer, jti, jti_expires, minted, _sha256(secret), now
                )
        except IntegrityError:
            raise TokenExchangeFailed(
                "invalid-reuse-token", "OIDC token refused: its jti has already been used"
            ) from None
        return Minted(secret, expires)

    def _writable_registries(self, verified: VerifiedToken) -> list[str]:
        with self._sessions() as session:
            policies = queries.all_policy_texts(session)
        found = []
        for registry_id, text in policies:
            scopes = _parsed(text).scopes_for(verified.issuer, verified.claims)
            if scopes is not None and Scope.WRITE_PACKAGES in scopes:
                found.append(registry_id)
        return found

    def minted_principal(self, secret: str) -> Principal:
        with self._sessions() as session:
            row = queries.minted_token(session, _sha256(secret))
        if row is None or row.expires_at <= self._now():
            raise Unauthenticated(
                "Minted token refused: it has expired or been burned; mint a new one"
            )
        return Principal(
            kind=PrincipalKind.OIDC,
            token_id=row.id,
            grants=frozenset((rid, Scope.WRITE_PACKAGES) for rid in row.registry_ids),
            publisher=publisher_from_json(row.publisher),
        )

    def burn(self, secret: str) -> None:
        """Revoke a minted token at once (uv calls this after publishing)."""
        with self._sessions.begin() as session:
            queries.delete_minted_token(session, _sha256(secret))


def _our_audience(claimed: object, base_url: str | None) -> str:
    listed = claimed if isinstance(claimed, list) else [claimed]
    audiences = [a for a in listed if isinstance(a, str)]
    prefix = (base_url or "").rstrip("/") + "/"
    mine = [a for a in audiences if a.startswith(prefix)]
    return (mine or audiences or [""])[0]


def publisher_of(verified: VerifiedToken) -> Publisher:
    claims = tuple(
        (name, str(verified.claims[name]))
        for name in IDENTIFYING_CLAIMS
        if isinstance(verified.claims.get(name), str | int)
    )
    return Publisher(verified.issuer, claims)


_POLICIES: dict[str, Policy] = {}


def _parsed(text: str) -> Policy:
    # Stored policies parsed once per process (they were validated on save).
    policy = _POLICIES.get(text)
    if policy is None:
        if len(_POLICIES) > 1000:
            _POLICIES.clear()
        policy = _POLICIES[text] = parse_policy(text)
    return policy


def _claim_time(value: object) -> datetime:
    return datetime.fromtimestamp(int(str(value)), UTC)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

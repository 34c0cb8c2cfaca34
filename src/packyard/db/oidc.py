"""Queries for trusted publishing: registries' OIDC policies, the OIDC tokens already
exchanged (by issuer and jti) and the short-lived tokens minted for them, in the caller's
session. ``services.oidc`` verifies, decides and records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from packyard.db.tables import OidcMintedTokenRow, OidcPolicyRow, OidcUsedJtiRow, RegistryRow


@dataclass(frozen=True, slots=True)
class MintedToken:
    id: str
    registry_ids: list[str]
    publisher: dict[str, Any]
    expires_at: datetime


def policy_texts(session: Session, registry_ids: Sequence[str]) -> dict[str, str]:
    """The policies of the registries that have one, by registry id."""
    rows = session.execute(
        select(OidcPolicyRow.registry_id, OidcPolicyRow.text).where(
            OidcPolicyRow.registry_id.in_(registry_ids)
        )
    ).all()
    return {registry_id: text for registry_id, text in rows}


def all_policy_texts(session: Session) -> list[tuple[str, str]]:
    """Every registry's policy, as (registry id, text)."""
    rows = session.execute(
        select(OidcPolicyRow.registry_id, OidcPolicyRow.text).join(
            RegistryRow, OidcPolicyRow.registry_id == RegistryRow.id
        )
    ).all()
    return [(registry_id, text) for registry_id, text in rows]


def set_policy_text(
    session: Session, registry_id: str, text: str | None, now: datetime
) -> str | None:
    """Store the registry's policy (None removes it); the text it had before."""
    row = session.get(OidcPolicyRow, registry_id)
    before = None if row is None else row.text
    if text is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(OidcPolicyRow(registry_id=registry_id, text=text, updated_at=now))
    else:
        row.text = text
        row.updated_at = now
    return before


def add_minted_token(
    session: Session,
    issuer: str,
    jti: str,
    jti_expires_at: datetime,
    minted: MintedToken,
    secret_sha256: str,
    now: datetime,
) -> None:
    """Burn the OIDC token's jti and store the token minted for it, dropping expired ones
    first. The caller's transaction fails (IntegrityError) when the jti was used."""
    session.execute(delete(OidcUsedJtiRow).where(OidcUsedJtiRow.expires_at < now))
    session.execute(delete(OidcMintedTokenRow).where(OidcMintedTokenRow.expires_at < now))
    session.add(OidcUsedJtiRow(issuer=issuer, jti=jti, expires_at=jti_expires_at))
    session.flush()
    session.add(
        OidcMintedTokenRow(
            id=minted.id,
            secret_sha256=secret_sha256,
            registry_ids=minted.registry_ids,
            publisher=minted.publisher,
            expires_at=minted.expires_at,
            created_at=now,
        )
    )


def minted_token(session: Session, secret_sha256: str) -> MintedToken | None:
    row = session.scalar(
        select(OidcMintedTokenRow).where(OidcMintedTokenRow.secret_sha256 == secret_sha256)
    )
    if row is None:
        return None
    return MintedToken(row.id, list(row.registry_ids), dict(row.publisher), row.expires_at)


def delete_minted_token(session: Session, secret_sha256: str) -> None:
    session.execute(
        delete(OidcMintedTokenRow).where(OidcMintedTokenRow.secret_sha256 == secret_sha256)
    )

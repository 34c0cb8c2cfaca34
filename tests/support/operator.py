"""In-process set-up as the command line does it: the operator principal creating
registries, composites and tokens through the same service methods REST and the UI call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from packyard.bootstrap import Services
from packyard.core.composite import CompositeSpec
from packyard.core.models import Registry
from packyard.core.permissions import OPERATOR
from packyard.core.registries import RegistryFields
from packyard.db.engine import make_engine


def create_registry(
    services: Services, organization: str, name: str, *, public: bool = False
) -> Registry:
    return services.registries.create(
        OPERATOR, organization, RegistryFields.every(name, public=public)
    )


def create_composite(
    services: Services,
    organization: str,
    name: str,
    upstreams: Sequence[str],
    *,
    public: bool = False,
    **settings: Any,
) -> Registry:
    spec = CompositeSpec(RegistryFields.every(name, public=public), upstreams, **settings)
    return services.composites.create(OPERATOR, organization, spec)


def registry_token(services: Services, organization: str, registry: str) -> str:
    """The secret of a new read-only token for the registry."""
    _, issued = services.tokens.create_registry_token(OPERATOR, organization, registry)
    return issued.secret


def write_as_another_process(services: Services, statement: str) -> None:
    """Run ``statement`` through an engine of its own, made as every Packyard process makes
    one (``make_engine``), so its commit is known to every process as another worker's is."""
    engine = make_engine(services.settings.effective_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()

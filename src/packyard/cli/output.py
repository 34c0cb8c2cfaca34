"""How the CLI prints objects: JSON shapes shared by the create and list commands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from packyard.core.models import Registry, Token


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


def registry_dict(registry: Registry) -> dict[str, Any]:
    return {
        "id": registry.id,
        "slug": registry.slug,
        "name": registry.name,
        "organization": registry.organization_slug,
        "ecosystem": registry.ecosystem,
        "type": registry.type.value,
        "public": registry.public,
        "description": registry.description,
        "created_at": registry.created_at.isoformat(),
    }


def token_dict(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "organization_id": token.organization_id,
        "registry_id": token.registry_id,
        "scopes": sorted(s.value for s in token.scopes),
        "description": token.description,
        "created_at": token.created_at.isoformat(),
    }

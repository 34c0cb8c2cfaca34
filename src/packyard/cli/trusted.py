"""``packyard registry update ORG REGISTRY --oidc-policy FILE``: a registry's trusted
publishing policy from the command line (docs/trusted-publishing.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from packyard.cli.common import with_services
from packyard.core.permissions import OPERATOR

if TYPE_CHECKING:
    from packyard.bootstrap import Services

OIDC_POLICY_OPTION = click.option(
    "--oidc-policy",
    "oidc_policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Trusted publishing: a policy file (YAML or JSON); an empty file removes it.",
)


def read_policy(path: Path | None) -> str | None:
    return None if path is None else path.read_text(encoding="utf-8")


@click.command("update")
@click.argument("organization")
@click.argument("registry_slug", metavar="REGISTRY")
@OIDC_POLICY_OPTION
@with_services
def registry_update(
    services: Services, organization: str, registry_slug: str, oidc_policy: Path | None
) -> None:
    """Change a registry's settings: today its trusted publishing policy."""
    if oidc_policy is None:
        raise click.UsageError("Nothing to change: give --oidc-policy FILE")
    found = services.registries.find_registry(organization, registry_slug)
    services.oidc.save_policy(found, read_policy(oidc_policy), OPERATOR)
    click.echo(found.slug)

"""``packyard quickstart``: the first-minute experience on the embedded default.

Creates (once) the organization ``demo``, the private registry ``python-packages`` and a
token with read and write scopes, prints the exact publish and install commands, then
serves. The token is kept in the data directory (mode 0600) so a re-run prints the same
one instead of minting another.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from packyard.cli import serving
from packyard.core.errors import NotFound, PackyardError
from packyard.core.scopes import Scope
from packyard.core.snippets import (
    TOKEN_VARIABLE,
    RegistryAddress,
    install_snippets,
    publish_snippets,
)

if TYPE_CHECKING:
    from packyard.bootstrap import Services

DEMO_ORGANIZATION = "demo"
DEMO_REGISTRY_NAME = "Python packages"
DEMO_SCOPES = frozenset({Scope.READ_PACKAGES, Scope.WRITE_PACKAGES})
TOKEN_FILE = "quickstart-token"


def _ensure_demo(services: Services) -> tuple[str, str]:
    """The demo registry's slug and a working token for it, creating what is missing."""
    registries = services.registries
    try:
        registries.get_organization(DEMO_ORGANIZATION)
    except NotFound:
        registries.create_organization(DEMO_ORGANIZATION, "Demo")
    try:
        slug = registries.find_registry(DEMO_ORGANIZATION, "python-packages").slug
    except NotFound:
        slug = registries.create_registry(DEMO_ORGANIZATION, DEMO_REGISTRY_NAME).slug
    token_path = services.settings.resolved_data_dir / TOKEN_FILE
    secret = _saved_token(services, token_path)
    if secret is None:
        issued = services.tokens.create_api_token(
            DEMO_ORGANIZATION, DEMO_SCOPES, "quickstart: read and write packages"
        )
        secret = issued.secret
        token_path.touch(mode=0o600)
        token_path.write_text(secret + "\n")
    return slug, secret


def _saved_token(services: Services, path: Path) -> str | None:
    if not path.exists():
        return None
    secret = path.read_text().strip()
    try:
        services.tokens.authenticate(secret)
    except PackyardError:
        return None
    return secret


def _instructions(base: str, registry: str, secret: str) -> str:
    address = RegistryAddress(base, DEMO_ORGANIZATION, registry)
    publish = {s.key: s.text for s in publish_snippets(address)}
    install = install_snippets(address, public=False, requirement="mypackage==1.0")
    commands = {s.key: s.text for s in install}
    return "\n".join(
        [
            "",
            "Packyard is starting with a demo organization and a private registry.",
            f"  organization: {DEMO_ORGANIZATION}    registry: {registry}",
            f"  token (read and write packages): {secret}",
            "",
            "The commands below read the token from the environment:",
            f"  export {TOKEN_VARIABLE}={secret}",
            "",
            "Publish a wheel or sdist:",
            textwrap.indent(publish["curl"], "  "),
            "Install it:",
            textwrap.indent(commands["pip"], "  "),
            textwrap.indent(commands["uv"], "  "),
            "",
        ]
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $PACKYARD_DATA_DIR or ./packyard-data).",
)
def quickstart(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    """Set up a demo organization, registry and token, print how to use them, and serve."""
    serving.export_data_dir(data_dir)
    # In a child, as ``serve`` prepares the database: the supervisor stays lean.
    serving.in_child_process(lambda: _set_up_demo(f"http://{host}:{port}"))
    serving.run_server(host, port, workers, access_log=True)


def _set_up_demo(base: str) -> None:
    from packyard.bootstrap import build_services
    from packyard.settings import Settings

    services = build_services(Settings())
    try:
        registry, secret = _ensure_demo(services)
    finally:
        services.close()
    click.echo(_instructions(base, registry, secret))

"""``packyard quickstart``: the first-minute experience on the embedded default.

Creates (once) the organization ``demo``, the private registry ``python-packages``, a token
with read and write scopes, an admin user for the web UI, and a small sample package (a
wheel and an sdist) to publish; prints commands that work when pasted as they are into a
shell in the same folder; then serves. The token and the password are kept in the data
directory (mode 0600) and the sample is written byte for byte the same, so a re-run prints
the same commands and they still work.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import click

from packyard.cli import sample_package, serving
from packyard.cli.quickstart_text import Demo, instructions
from packyard.core.errors import NotFound, PackyardError, ValidationFailed
from packyard.core.permissions import OPERATOR
from packyard.core.registries import RegistryFields
from packyard.core.scopes import Scope

if TYPE_CHECKING:
    from packyard.bootstrap import Services

DEMO_ORGANIZATION = "demo"
DEMO_REGISTRY_NAME = "Python packages"
DEMO_SCOPES = frozenset({Scope.READ_PACKAGES, Scope.WRITE_PACKAGES})
DEMO_EMAIL = "admin@demo.example"
TOKEN_FILE = "quickstart-token"
PASSWORD_FILE = "quickstart-password"
SAMPLE_FOLDER = "sample"


def _ensure_demo(services: Services) -> Demo:
    """The demo organization, registry, token, user and sample, creating what is missing."""
    registries = services.registries
    try:
        registries.get_organization(DEMO_ORGANIZATION)
    except NotFound:
        registries.create_organization(DEMO_ORGANIZATION, "Demo")
    try:
        slug = registries.find_registry(DEMO_ORGANIZATION, "python-packages").slug
    except NotFound:
        fields = RegistryFields.every(DEMO_REGISTRY_NAME)
        slug = registries.create(OPERATOR, DEMO_ORGANIZATION, fields).slug
    data_dir = services.settings.resolved_data_dir
    return Demo(
        registry=slug,
        token=_ensure_token(services, data_dir / TOKEN_FILE),
        email=DEMO_EMAIL,
        password=_ensure_user(services, data_dir / PASSWORD_FILE),
        sample_files=sample_package.write_sample(data_dir / SAMPLE_FOLDER),
    )


def _ensure_token(services: Services, path: Path) -> str:
    secret = _saved_token(services, path)
    if secret is None:
        issued = services.tokens.create_access_token(
            OPERATOR, DEMO_ORGANIZATION, DEMO_SCOPES, "quickstart: read and write packages"
        )
        secret = issued.secret
        _write_secret(path, secret)
    return secret


def _saved_token(services: Services, path: Path) -> str | None:
    if not path.exists():
        return None
    secret = path.read_text().strip()
    try:
        services.tokens.authenticate(secret)
    except PackyardError:
        return None
    return secret


def _ensure_user(services: Services, path: Path) -> str | None:
    """The demo admin's password: the saved one, or a new one for a new user; None when
    the user was made otherwise (its password was never known here)."""
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    try:
        services.users.create_user(DEMO_EMAIL, DEMO_ORGANIZATION, password, admin=True)
    except ValidationFailed:
        return None  # the email is taken
    _write_secret(path, password)
    return password


def _write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` readable by its owner only, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)


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
    """Set up a demo organization, registry, token, user and sample package, print how to
    use them, and serve."""
    serving.export_data_dir(data_dir)
    # In a child, as ``serve`` prepares the database: the supervisor stays lean.
    serving.in_child_process(lambda: _set_up_demo(f"http://{host}:{port}"))
    serving.run_server(host, port, workers, access_log=True)


def _set_up_demo(base: str) -> None:
    from packyard.bootstrap import build_services
    from packyard.settings import Settings

    services = build_services(Settings())
    try:
        demo = _ensure_demo(services)
    finally:
        services.close()
    click.echo(instructions(base, DEMO_ORGANIZATION, demo))

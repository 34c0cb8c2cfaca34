"""``packyard``: serve, org, registry, token, user, db, quickstart, fsck, gc, import, export,
backup, restore, yank, unyank, project-status, audit, retention, cache, webhooks.

Every command honours ``PACKYARD_DATA_DIR``, ``PACKYARD_DATABASE_URL`` and
``PACKYARD_STORAGE_URL`` and accepts ``--data-dir``. Results go to stdout (``--json`` for
machines), errors to stderr with a non-zero exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from packyard.cli import integrity, lifecycle, moving, serving
from packyard.cli.audit import audit
from packyard.cli.cache import cache
from packyard.cli.common import data_dir_option, json_option, load_settings, with_services
from packyard.cli.output import print_json, registry_dict, token_dict
from packyard.cli.quickstart import quickstart
from packyard.cli.retention import retention
from packyard.cli.trusted import OIDC_POLICY_OPTION, read_policy, registry_update
from packyard.cli.webhooks import webhooks
from packyard.core.composite import CompositeSpec
from packyard.core.oidc_policy import parse_policy
from packyard.core.permissions import OPERATOR
from packyard.core.registries import RegistryFields
from packyard.core.retention import DEFAULT_GC_GRACE
from packyard.core.scopes import Scope, parse_scopes

if TYPE_CHECKING:
    from packyard.bootstrap import Services


@click.group()
@click.version_option(package_name="packyard")
def main() -> None:
    """Packyard: a self-hosted package registry for Python."""


@main.group()
def org() -> None:
    """Organizations."""


@org.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (default: the slug).")
@json_option
@with_services
def org_create(services: Services, slug: str, name: str | None, as_json: bool) -> None:
    """Create organization SLUG."""
    created = services.registries.create_organization(slug, name)
    if as_json:
        print_json(
            {
                "id": created.id,
                "slug": created.slug,
                "name": created.name,
                "created_at": created.created_at.isoformat(),
            }
        )
    else:
        click.echo(created.slug)


@main.group()
def registry() -> None:
    """Registries."""


@registry.command("create")
@click.argument("organization")
@click.argument("name")
@click.option("--public", is_flag=True, help="Anyone may read; writes still need a token.")
@click.option("--description", default="", help="What the registry holds.")
@click.option("--composite", is_flag=True, help="Merge --upstream registries (and PyPI).")
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    help="Composite: a source registry slug, or pypi; repeatable, in order of precedence.",
)
@click.option(
    "--public-override",
    "public_overrides",
    multiple=True,
    help="Composite: a name published privately that may still come from PyPI; repeatable.",
)
@click.option(
    "--pypi-files",
    type=click.Choice(["link", "cache"]),
    default="link",
    show_default=True,
    help="Composite: link PyPI files, or cache them here.",
)
@click.option(
    "--min-release-age",
    default=None,
    help='Composite: serve PyPI files only this old, e.g. "7 days" or seconds.',
)
@click.option(
    "--cooldown-exempt",
    "cooldown_exempt",
    multiple=True,
    help="Composite: a name the release age does not apply to; repeatable.",
)
@OIDC_POLICY_OPTION
@json_option
@with_services
def registry_create(
    services: Services,
    organization: str,
    name: str,
    public: bool,
    description: str,
    composite: bool,
    upstreams: tuple[str, ...],
    public_overrides: tuple[str, ...],
    pypi_files: str,
    min_release_age: str | None,
    cooldown_exempt: tuple[str, ...],
    oidc_policy: Path | None,
    as_json: bool,
) -> None:
    """Create a registry NAME in ORGANIZATION (source, or --composite); prints its slug."""
    policy = read_policy(oidc_policy)
    if policy is not None and policy.strip():
        parse_policy(policy)  # refused before the registry exists
    if composite:
        if public:
            raise click.UsageError("A composite registry is always private: drop --public")
        spec = CompositeSpec(
            RegistryFields.every(name, description=description),
            list(upstreams),
            public_overrides=public_overrides,
            pypi_files=pypi_files,
            min_release_age=min_release_age,
            cooldown_exempt=cooldown_exempt,
        )
        created = services.composites.create(OPERATOR, organization, spec)
    elif upstreams:
        raise click.UsageError("--upstream needs --composite")
    else:
        fields = RegistryFields.every(name, public=public, description=description)
        created = services.registries.create(OPERATOR, organization, fields)
    if policy is not None:
        services.oidc.save_policy(created, policy, OPERATOR)
    if as_json:
        print_json(registry_dict(created))
    else:
        click.echo(created.slug)


registry.add_command(registry_update)


@registry.command("list")
@click.argument("organization")
@json_option
@with_services
def registry_list(services: Services, organization: str, as_json: bool) -> None:
    """List the registries of ORGANIZATION."""
    registries = services.registries.list_registries(organization)
    if as_json:
        print_json([registry_dict(r) for r in registries])
        return
    for found in registries:
        visibility = "public" if found.public else "private"
        click.echo(f"{found.slug}\t{found.type.value}\t{visibility}\t{found.name}")


@main.group()
def token() -> None:
    """Tokens."""


@token.command("create")
@click.argument("organization")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help=f"Scope of an API token, repeatable: {', '.join(s.value for s in Scope)}.",
)
@click.option(
    "--registry",
    "registry_slug",
    default=None,
    help="Create a read-only token for this registry instead.",
)
@click.option("--description", default="", help="What the token is for.")
@click.option(
    "--user",
    "user_email",
    default=None,
    help="The member the token acts for: it may never do more than they may.",
)
@json_option
@with_services
def token_create(
    services: Services,
    organization: str,
    scopes: tuple[str, ...],
    registry_slug: str | None,
    description: str,
    user_email: str | None,
    as_json: bool,
) -> None:
    """Create a token; prints the secret alone (it is never shown again)."""
    if registry_slug and user_email:
        raise click.UsageError("A registry token acts for no one: give --registry or --user")
    if registry_slug and scopes:
        raise click.UsageError(
            "A registry token is read-only: give --registry or --scope, not both"
        )
    if registry_slug:
        _, issued = services.tokens.create_registry_token(
            OPERATOR, organization, registry_slug, description
        )
    else:
        if not scopes:
            raise click.UsageError("Give at least one --scope, or --registry for a registry token")
        try:
            parsed = parse_scopes(list(scopes))
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        owner = None
        if user_email is not None:
            owner = services.users.member_id(user_email, organization)
        issued = services.tokens.create_access_token(
            OPERATOR, organization, parsed, description, for_user=owner
        )
    if as_json:
        print_json({**token_dict(issued.token), "token": issued.secret})
    else:
        click.echo(issued.secret)


@main.group()
def user() -> None:
    """People who sign in to the web UI."""


@user.command("create")
@click.argument("email")
@click.option("--org", "organization", required=True, help="The organization they belong to.")
@click.option("--admin", is_flag=True, help="May manage registries and tokens.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin instead of a prompt."
)
@with_services
def user_create(
    services: Services, email: str, organization: str, admin: bool, password_stdin: bool
) -> None:
    """Create a user EMAIL in an organization; prints the email."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = services.users.create_user(email, organization, password, admin=admin)
    click.echo(created.email)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Apply pending schema migrations to the configured database."""
    from packyard.bootstrap import build_services

    build_services(load_settings(data_dir), migrate=True).close()
    click.echo("Database schema is up to date.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--access-log/--no-access-log",
    default=True,
    envvar="PACKYARD_ACCESS_LOG",
    show_default=True,
    help="One line per request on stdout ($PACKYARD_ACCESS_LOG).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="PACKYARD_LOG_FORMAT",
    show_default=True,
    help="json: one JSON object per line, for log collectors ($PACKYARD_LOG_FORMAT).",
)
@click.option(
    "--server",
    type=click.Choice(serving.SERVERS),
    default=serving.DEFAULT_SERVER,
    envvar="PACKYARD_SERVER",
    show_default=True,
    help="The HTTP server running the workers ($PACKYARD_SERVER).",
)
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve HTTPS with this certificate (PEM; with --ssl-keyfile).",
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The private key of --ssl-certfile (PEM).",
)
@data_dir_option
def serve(
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    log_format: str,
    ssl_certfile: Path | None,
    ssl_keyfile: Path | None,
    server: str,
    data_dir: Path | None,
) -> None:
    """Run the server."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("Give --ssl-certfile and --ssl-keyfile together")
    tls = None if ssl_certfile is None or ssl_keyfile is None else (ssl_certfile, ssl_keyfile)
    serving.check_server_installed(server)
    serving.export_data_dir(data_dir)
    serving.in_child_process(serving.prepare_database)
    serving.run_server(host, port, workers, access_log, log_format, tls, server)


@main.command()
@click.option("--quick", is_flag=True, help="Check blobs exist with the right size; skip hashing.")
@json_option
@with_services
def fsck(services: Services, quick: bool, as_json: bool) -> None:
    """Check every recorded file's blob (presence, size, SHA256) and list orphan blobs.

    Exits 1 when a recorded file is missing or damaged; orphan blobs alone are only
    reported (`packyard gc` removes them).
    """
    integrity.run_fsck(services, quick, as_json)


@main.command()
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=int(DEFAULT_GC_GRACE.total_seconds()),
    show_default=True,
    help="Seconds an unreferenced blob is kept after it was last stored.",
)
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@json_option
@with_services
def gc(services: Services, grace: int, dry_run: bool, as_json: bool) -> None:
    """Remove blobs no file references, once older than the grace period."""
    integrity.run_gc(services, grace, dry_run, as_json)


@main.command("search")
@click.argument("organization")
@click.argument("query")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 100))
@json_option
@with_services
def search(services: Services, organization: str, query: str, limit: int, as_json: bool) -> None:
    """Find projects of ORGANIZATION by name, summary or keywords (every registry)."""
    found = services.search.search(OPERATOR, organization, query, per_page=limit)
    rows = [
        {
            "registry": r.registry.slug,
            "name": r.name,
            "version": r.version,
            "summary": r.summary,
        }
        for r in found.results
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['registry']}\t{row['name']}\t{row['version']}\t{row['summary']}")


main.add_command(quickstart)
main.add_command(audit)
main.add_command(retention)
main.add_command(cache)
main.add_command(webhooks)
moving.register(main)
lifecycle.register(main)


if __name__ == "__main__":
    main()

"""``packyard yank`` and ``packyard unyank`` (a whole release, or one file of it with
``--file``) and ``packyard project-status``, as the operator (who holds the database, so
may do anything)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from packyard.cli.common import json_option, with_services
from packyard.cli.output import print_json
from packyard.core.errors import NotFound
from packyard.core.lifecycle import ProjectStatus
from packyard.core.models import PackageFile
from packyard.core.permissions import OPERATOR

if TYPE_CHECKING:
    from packyard.bootstrap import Services


def _release_arguments(command: click.Command) -> click.Command:
    """ORGANIZATION REGISTRY PROJECT VERSION and --file, on a built command (appended in
    order: a built command's parameters are a plain list)."""
    for name in ("organization", "registry", "project", "version"):
        command = click.argument(name)(command)
    return click.option(
        "--file", "filename", default=None, help="Only this file of the release (its name)."
    )(command)


@click.command("yank")
@click.option("--reason", default="", help="Why: shown to whoever installs it with ==.")
@json_option
@with_services
def yank_command(services: Services, reason: str, as_json: bool, **release: str) -> None:
    """Yank release VERSION of PROJECT: installers skip it unless it is pinned with ==."""
    _report(_set_yank(services, Release(**release), reason=reason), as_json)


@click.command("unyank")
@json_option
@with_services
def unyank_command(services: Services, as_json: bool, **release: str) -> None:
    """Unyank release VERSION of PROJECT (or one --file of it)."""
    _report(_set_yank(services, Release(**release), reason=None), as_json)


@dataclass(frozen=True, slots=True)
class Release:
    """What the command line names: a release, or one file of it."""

    organization: str
    registry: str
    project: str
    version: str
    filename: str | None


def _set_yank(services: Services, release: Release, *, reason: str | None) -> list[PackageFile]:
    lifecycle = services.lifecycle
    where = (OPERATOR, release.organization, release.registry)
    if release.filename is None:
        return lifecycle.yank_release(*where, release.project, release.version, reason).files
    # Imported here: the server's supervisor imports this module and must stay free of the
    # application's libraries (tests/test_serve.py).
    from packyard.services.packages import PackageQuery

    query = PackageQuery(per_page=100, name=release.project, version=release.version)
    listed = services.packages.list_packages(*where, query)
    found = next((p for p in listed.items if p.filename == release.filename), None)
    if found is None:
        raise NotFound(
            f"No file {release.filename!r} in release {release.project} {release.version} "
            f"of {release.registry!r}"
        )
    return [lifecycle.yank_file(*where, found.id, reason)[1]]


def _report(files: list[PackageFile], as_json: bool) -> None:
    if as_json:
        print_json([{"filename": f.filename, "yanked_reason": f.yanked_reason} for f in files])
        return
    for file in files:
        state = "live" if file.yanked_reason is None else f"yanked ({file.yanked_reason})"
        click.echo(f"{file.filename}\t{state}")


def register(group: click.Group) -> None:
    for command in (yank_command, unyank_command):
        group.add_command(_release_arguments(command))
    group.add_command(project_status_command)


@click.command("project-status")
@click.argument("organization")
@click.argument("registry")
@click.argument("project")
@click.option(
    "--set",
    "status",
    default=None,
    type=click.Choice([s.value for s in ProjectStatus]),
    help="Record this status (PEP 792); without it, print the current one.",
)
@click.option("--reason", default="", help="Why: installers are shown it.")
@json_option
@with_services
def project_status_command(
    services: Services,
    organization: str,
    registry: str,
    project: str,
    status: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Print or set the status of PROJECT: active, archived, deprecated or quarantined."""
    lifecycle = services.lifecycle
    if status is None:
        state = lifecycle.project_status(OPERATOR, organization, registry, project)
    else:
        where = (OPERATOR, organization, registry, project)
        state = lifecycle.set_project_status(*where, status, reason)
    if as_json:
        print_json({"status": state.status.value, "reason": state.reason})
    else:
        click.echo(f"{state.status.value}\t{state.reason}".rstrip())

"""``packyard retention show|set|preview|run``: a registry's retention policy from the
command line, as the operator, through the same service as REST and the web UI
(docs/retention.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from packyard.cli.common import json_option, with_services
from packyard.cli.output import print_json
from packyard.core.permissions import OPERATOR
from packyard.core.retention import (
    DEFAULT_MIN_AGE_HOURS,
    Doomed,
    RetentionPolicy,
    policy_state,
)

if TYPE_CHECKING:
    from packyard.bootstrap import Services


@click.group()
def retention() -> None:
    """Retention policies: which files of a registry are deleted, and when."""


def _policy_dict(policy: RetentionPolicy | None) -> dict[str, Any]:
    return policy_state(policy or RetentionPolicy())


def _files(files: list[Doomed], as_json: bool, summary: dict[str, Any]) -> None:
    rows = [
        {
            "id": d.file.package_id,
            "project": d.file.project,
            "version": d.file.version,
            "filename": d.file.filename,
            "size": d.file.size,
            "reason": d.reason,
        }
        for d in files
    ]
    if as_json:
        print_json({**summary, "files": rows})
        return
    for row in rows:
        click.echo(f"{row['filename']}\t{row['size']}\t{row['reason']}")
    click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))


@retention.command("show")
@click.argument("organization")
@click.argument("registry")
@with_services
def show(services: Services, organization: str, registry: str) -> None:
    """Print the registry's policy as JSON (every rule null when it has none)."""
    print_json(_policy_dict(services.retention.policy(OPERATOR, organization, registry)))


@retention.command("set")
@click.argument("organization")
@click.argument("registry")
@click.option("--keep-latest", type=int, default=None, help="Keep the newest N releases.")
@click.option(
    "--prereleases-max-age-days",
    type=int,
    default=None,
    help="Delete pre-releases and dev releases older than D days.",
)
@click.option(
    "--not-downloaded-days",
    type=int,
    default=None,
    help="Delete releases not downloaded for D days.",
)
@click.option(
    "--exempt",
    multiple=True,
    help='Never delete: a project name glob, or "glob==version-glob" (repeatable).',
)
@click.option(
    "--min-age-hours",
    type=float,
    default=DEFAULT_MIN_AGE_HOURS,
    show_default=True,
    help="Never delete a file younger than this.",
)
@with_services
def set_policy(
    services: Services,
    organization: str,
    registry: str,
    keep_latest: int | None,
    prereleases_max_age_days: int | None,
    not_downloaded_days: int | None,
    exempt: tuple[str, ...],
    min_age_hours: float,
) -> None:
    """Replace the registry's policy; rules not given are off."""
    policy = RetentionPolicy(
        keep_latest, prereleases_max_age_days, not_downloaded_days, exempt, min_age_hours
    )
    saved = services.retention.set_policy(OPERATOR, organization, registry, policy)
    print_json(_policy_dict(saved))


@retention.command("preview")
@click.argument("organization")
@click.argument("registry")
@json_option
@with_services
def preview(services: Services, organization: str, registry: str, as_json: bool) -> None:
    """List what the policy would delete now; delete nothing."""
    found = services.retention.preview(OPERATOR, organization, registry)
    _files(found.files, as_json, {"files_count": len(found.files), "bytes": found.bytes})


@retention.command("run")
@click.argument("organization")
@click.argument("registry")
@json_option
@with_services
def run(services: Services, organization: str, registry: str, as_json: bool) -> None:
    """Apply the policy now: delete what ``preview`` lists."""
    outcome = services.retention.run(OPERATOR, organization, registry)
    summary = {
        "files_deleted": outcome.run.files_deleted,
        "bytes_deleted": outcome.run.bytes_deleted,
    }
    _files(outcome.files, as_json, summary)

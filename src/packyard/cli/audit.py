"""``packyard audit ORG [--since WHEN] [--type T] [--limit N] [--json]``: an organization's
audit log, newest first, read from the database as the operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from packyard.cli.common import json_option, with_services
from packyard.cli.output import print_json
from packyard.core.composite import parse_duration
from packyard.core.errors import ValidationFailed
from packyard.core.events import AuditEntry, AuditFilter, EventType, describe_actor, entry_json
from packyard.core.permissions import OPERATOR

if TYPE_CHECKING:
    from packyard.bootstrap import Services


@click.command("audit")
@click.argument("organization")
@click.option(
    "--since",
    default=None,
    help='Only events at or after this: an ISO time ("2026-12-01T00:00Z") or an age '
    '("7 days", "12 hours").',
)
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice([t.value for t in EventType]),
    help="Only events of this type (repeatable).",
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@with_services
def audit(
    services: Services,
    organization: str,
    since: str | None,
    types: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """The audit log of ORGANIZATION, newest first."""
    wanted = AuditFilter(
        types=frozenset(EventType(t) for t in types), since=_moment(since, datetime.now(UTC))
    )
    entries: list[AuditEntry] = []
    cursor: int | None = None
    while len(entries) < limit:
        page = services.audit.events(
            OPERATOR, organization, wanted, after=cursor, per_page=min(500, limit - len(entries))
        )
        entries.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    if as_json:
        print_json([entry_json(entry) for entry in entries])
        return
    for entry in entries:
        click.echo(_line(entry))


def _moment(value: str | None, now: datetime) -> datetime | None:
    """``--since`` as a time: ISO 8601, or an age before ``now``."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            age = parse_duration(value)
        except ValidationFailed:
            raise click.BadParameter(
                f"{value!r} is neither an ISO time nor an age such as '7 days'",
                param_hint="--since",
            ) from None
        return None if age is None else now - timedelta(seconds=age)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _line(entry: AuditEntry) -> str:
    where = f" [{entry.registry_slug}]" if entry.registry_slug else ""
    changes = ", ".join(f"{k}: {b!r} -> {a!r}" for k, (b, a) in entry.changes.items())
    return (
        f"{entry.occurred_at.isoformat(timespec='seconds')}  {entry.type.value}{where}  "
        f"{entry.subject.type} {entry.subject.name or entry.subject.id}  "
        f"by {describe_actor(entry.actor)}" + (f"  ({changes})" if changes else "")
    )

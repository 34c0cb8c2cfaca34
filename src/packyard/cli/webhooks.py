"""``packyard webhooks list|create|show|update|delete|ping|deliveries|redeliver``: a
registry's webhooks (``ORG REGISTRY``), or the organization-wide ones (``ORG --org-wide``),
as the operator, through the same service as REST and the web UI (docs/events.md).

The secret is printed once, by ``create``; no command shows it again.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from packyard.cli.common import json_option, with_services
from packyard.cli.output import print_json
from packyard.core.permissions import OPERATOR
from packyard.core.webhooks import SUBSCRIBABLE, Delivery, delivery_json, webhook_json

if TYPE_CHECKING:
    from packyard.bootstrap import Services

F = TypeVar("F", bound=Callable[..., Any])
EVENT_CHOICE = click.Choice(sorted(e.value for e in SUBSCRIBABLE))


@click.group()
def webhooks() -> None:
    """Webhooks: who is told when a package is published, deleted or yanked."""


def _where(*names: str) -> Callable[[F], F]:
    """ORGANIZATION, then REGISTRY unless ``--org-wide``, then ``names``: the command
    receives ``organization``, ``registry`` (None for organization-wide) and each name."""
    metavar = " ".join(["[REGISTRY]", *(n.upper() for n in names)])

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(
            *args: Any, organization: str, rest: tuple[str, ...], org_wide: bool, **kwargs: Any
        ) -> Any:
            wanted = len(names) + (0 if org_wide else 1)
            if len(rest) != wanted:
                tail = "".join(f" {n.upper()}" for n in names)
                raise click.UsageError(
                    f"Give ORGANIZATION REGISTRY{tail}, or ORGANIZATION{tail} with --org-wide"
                )
            registry = None if org_wide else rest[0]
            named = dict(zip(names, rest[len(rest) - len(names) :], strict=True))
            return command(*args, organization=organization, registry=registry, **named, **kwargs)

        wrapper = click.option(
            "--org-wide",
            is_flag=True,
            help="The organization's own hooks, which hear every registry (no REGISTRY).",
        )(wrapper)
        wrapper = click.argument("rest", nargs=-1, metavar=metavar)(wrapper)
        return click.argument("organization")(wrapper)  # type: ignore[return-value]

    return decorate


@webhooks.command("list")
@_where()
@json_option
@with_services
def list_hooks(services: Services, organization: str, registry: str | None, as_json: bool) -> None:
    """List the hooks (a registry's own, or with --org-wide the organization's)."""
    found = services.webhooks.webhooks(OPERATOR, organization, registry)
    if as_json:
        print_json([webhook_json(hook) for hook in found])
        return
    for hook in found:
        state = "active" if hook.active else f"off ({hook.disabled_reason or 'turned off'})"
        events = ",".join(sorted(e.value for e in hook.events))
        click.echo(f"{hook.id}\t{hook.url}\t{events}\t{state}")


@webhooks.command("create")
@_where()
@click.option("--url", required=True, help="The http(s) URL the events are POSTed to.")
@click.option(
    "--event", "events", multiple=True, required=True, type=EVENT_CHOICE, help="Repeatable."
)
@click.option("--description", default="", help="What the hook is for.")
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the secret (whsec_ + base64) from stdin; by default one is generated.",
)
@json_option
@with_services
def create(
    services: Services,
    organization: str,
    registry: str | None,
    url: str,
    events: tuple[str, ...],
    description: str,
    secret_stdin: bool,
    as_json: bool,
) -> None:
    """Subscribe URL to events; prints the hook's id and its secret, shown this once."""
    secret = sys.stdin.readline().strip() if secret_stdin else None
    created = services.webhooks.create(
        OPERATOR, organization, registry, url, list(events), description, secret or None
    )
    if as_json:
        print_json({**webhook_json(created.webhook), "secret": created.secret})
        return
    click.echo(created.webhook.id)
    click.echo(f"secret (shown once): {created.secret}")


@webhooks.command("show")
@_where("webhook_id")
@with_services
def show(services: Services, organization: str, registry: str | None, webhook_id: str) -> None:
    """Print one hook as JSON."""
    print_json(
        webhook_json(services.webhooks.webhook(OPERATOR, organization, registry, webhook_id))
    )


@webhooks.command("update")
@_where("webhook_id")
@click.option("--url", default=None, help="A new URL.")
@click.option(
    "--event", "events", multiple=True, type=EVENT_CHOICE, help="Replace the events (repeatable)."
)
@click.option("--description", default=None)
@click.option(
    "--active/--inactive",
    default=None,
    help="Turn the hook on (also after a 410 turned it off) or off.",
)
@with_services
def update(
    services: Services,
    organization: str,
    registry: str | None,
    webhook_id: str,
    url: str | None,
    events: tuple[str, ...],
    description: str | None,
    active: bool | None,
) -> None:
    """Change the fields given; prints the hook as JSON."""
    from packyard.services.webhooks import WebhookChange

    change = WebhookChange(url, list(events) if events else None, description, active)
    changed = services.webhooks.change(OPERATOR, organization, registry, webhook_id, change)
    print_json(webhook_json(changed))


@webhooks.command("delete")
@_where("webhook_id")
@with_services
def delete(services: Services, organization: str, registry: str | None, webhook_id: str) -> None:
    """Delete the hook and its deliveries (pending ones are not sent)."""
    services.webhooks.delete(OPERATOR, organization, registry, webhook_id)
    click.echo(f"Deleted webhook {webhook_id}")


@webhooks.command("ping")
@_where("webhook_id")
@with_services
def ping(services: Services, organization: str, registry: str | None, webhook_id: str) -> None:
    """Queue a ping (a running server sends it); prints the delivery's id."""
    click.echo(services.webhooks.ping(OPERATOR, organization, registry, webhook_id))


@webhooks.command("deliveries")
@_where("webhook_id")
@json_option
@with_services
def deliveries(
    services: Services, organization: str, registry: str | None, webhook_id: str, as_json: bool
) -> None:
    """The newest 20 deliveries, newest first, with each attempt's status."""
    found = services.webhooks.deliveries(OPERATOR, organization, registry, webhook_id)
    if as_json:
        print_json([delivery_json(d) for d in found])
        return
    for delivery in found:
        click.echo(_line(delivery))


@webhooks.command("redeliver")
@_where("webhook_id", "delivery_id")
@with_services
def redeliver(
    services: Services,
    organization: str,
    registry: str | None,
    webhook_id: str,
    delivery_id: str,
) -> None:
    """Queue a delivery's body again, as a new delivery; prints its id."""
    hooks = services.webhooks
    click.echo(hooks.redeliver(OPERATOR, organization, registry, webhook_id, delivery_id))


def _line(delivery: Delivery) -> str:
    statuses = ",".join(
        str(a.status) if a.status is not None else (a.error or "no answer")
        for a in delivery.attempts
    )
    return (
        f"{delivery.id}\t{delivery.event.value}\t{delivery.state.value}\t"
        f"{delivery.created_at.isoformat(timespec='seconds')}\t{statuses or '-'}"
    )

"""``packyard cache prune``: hold the PyPI file cache of composite registries under a size
cap now, evicting the least recently used files (what the maintenance job does each
interval when ``PACKYARD_PYPI_CACHE_MAX_BYTES`` is set; docs/retention.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from packyard.cli.common import json_option, with_services
from packyard.cli.output import print_json

if TYPE_CHECKING:
    from packyard.bootstrap import Services


@click.group()
def cache() -> None:
    """The PyPI file cache of composite registries (--pypi-files cache)."""


@cache.command("prune")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=0),
    default=None,
    help="Evict until the cache holds at most this many bytes "
    "(default: PACKYARD_PYPI_CACHE_MAX_BYTES).",
)
@json_option
@with_services
def prune(services: Services, max_bytes: int | None, as_json: bool) -> None:
    """Evict least recently used PyPI files; each is fetched again when next requested."""
    if max_bytes is None and services.pypi_cache.max_bytes is None:
        raise click.UsageError("No cap: pass --max-bytes N or set PACKYARD_PYPI_CACHE_MAX_BYTES")
    report = services.pypi_cache.prune(max_bytes)
    summary = {
        "max_bytes": report.max_bytes,
        "bytes_before": report.bytes_before,
        "bytes_after": report.bytes_after,
        "evicted": len(report.evicted),
        "in_use": report.in_use,
    }
    if as_json:
        print_json({**summary, "evicted_keys": report.evicted})
        return
    click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))

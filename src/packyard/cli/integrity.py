"""What ``packyard fsck`` and ``packyard gc`` print: check that every recorded file has its
bytes, and remove blobs nothing references (``services.integrity`` explains why gc is safe
to run while the server publishes). The commands themselves are declared in ``cli.main``."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from packyard.cli.output import print_json

if TYPE_CHECKING:
    from packyard.bootstrap import Services


def run_fsck(services: Services, quick: bool, as_json: bool) -> None:
    """Print the fsck report; exit 1 when a recorded file is missing or damaged."""
    report = services.integrity.fsck(verify_hashes=not quick)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "files_checked": report.files_checked,
                "blobs_seen": report.blobs_seen,
                "problems": [
                    {"file": p.location, "blob": p.blob_key, "problem": p.problem}
                    for p in report.problems
                ],
                "orphans": report.orphans,
            }
        )
    else:
        for problem in report.problems:
            click.echo(f"DAMAGED {problem.location} ({problem.blob_key}): {problem.problem}")
        for orphan in report.orphans:
            click.echo(f"orphan blob {orphan}")
        click.echo(
            f"{report.files_checked} files checked, {report.blobs_seen} blobs, "
            f"{len(report.problems)} problems, {len(report.orphans)} orphan blobs"
        )
    if not report.ok:
        sys.exit(1)


def run_gc(services: Services, grace: int, dry_run: bool, as_json: bool) -> None:
    """Collect and print what was removed."""
    report = services.integrity.gc(timedelta(seconds=grace), dry_run=dry_run)
    if as_json:
        print_json(
            {
                "blobs_seen": report.blobs_seen,
                "removed": report.removed,
                "kept_in_grace": report.kept_in_grace,
                "dry_run": dry_run,
            }
        )
        return
    verb = "would remove" if dry_run else "removed"
    for key in report.removed:
        click.echo(f"{verb} {key}")
    click.echo(
        f"{report.blobs_seen} blobs, {len(report.removed)} {verb}, "
        f"{report.kept_in_grace} within the grace period"
    )

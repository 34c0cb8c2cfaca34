"""Moving in and staying safe: ``packyard import``, ``export``, ``backup`` and ``restore``.

The work is done by ``services.importing``, ``services.exporting`` and ``services.backup``;
this module parses options, shows progress (``cli.progress``) and prints the summary.
Exit codes: 0 when everything went in (or was already there), 1 when any file was refused
or failed, or the backup did not check out.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from packyard.cli.common import data_dir_option, json_option, load_settings, with_services
from packyard.cli.output import print_json
from packyard.core.errors import PackyardError

if TYPE_CHECKING:
    from packyard.bootstrap import Services
    from packyard.services.backup import BackupReport
    from packyard.services.import_model import ImportReport, Selection, Source

# ``cli.progress`` (and so rich) is imported inside the commands: ``packyard serve`` loads
# this module too, and its supervisor process should not carry rich.

_every_option = click.option(
    "--progress-every",
    "every",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Without a terminal: print a progress line every N files.",
)


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.command("import")
@click.argument("organization")
@click.argument("registry")
@click.argument("source")
@click.option(
    "--index",
    default=None,
    help="A devpi export's index (USER/NAME), or a Packyard export's registry slug.",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    help="Only projects whose name matches this glob (e.g. 'acme-*'); repeatable.",
)
@click.option("--since", default=None, help="Only files uploaded at or after (ISO 8601, UTC).")
@click.option("--until", default=None, help="Only files uploaded before (ISO 8601, UTC).")
@click.option("--dry-run", is_flag=True, help="Say what would come in; import nothing.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Files fetched at once from an index.",
)
@_every_option
@json_option
@with_services
def import_command(
    services: Services,
    organization: str,
    registry: str,
    source: str,
    index: str | None,
    projects: tuple[str, ...],
    since: str | None,
    until: str | None,
    dry_run: bool,
    concurrency: int,
    every: int,
    as_json: bool,
) -> None:
    """Import SOURCE into REGISTRY of ORGANIZATION.

    SOURCE is a folder of distributions (pypiserver's layout), a bandersnatch mirror, a
    devpi export (devpi-export), a Packyard export (packyard export), or the URL of any
    simple index (credentials in the URL or ~/.netrc). Every file is inspected like an
    upload; files already there are skipped, so running it again is safe.
    """
    from packyard.cli.progress import progress_for
    from packyard.services.import_model import Selection

    target = services.importing.target(organization, registry)
    selection = Selection(projects, _moment(since), _moment(until))
    opened = _open_source(source, index, selection, concurrency)
    try:
        with progress_for(as_json, every) as progress:
            report = services.importing.run(
                target, opened, selection, progress, dry_run=dry_run, concurrency=concurrency
            )
    finally:
        opened.close()
    _print_import(report, as_json)
    if not report.ok:
        sys.exit(1)


def _open_source(source: str, index: str | None, selection: Selection, concurrency: int) -> Source:
    from packyard.services.import_folders import open_folder_source

    if source.startswith(("http://", "https://")):
        # httpx is imported only for an index.
        from packyard.services.import_index import IndexSource

        if index is not None:
            raise click.UsageError("--index applies to a devpi or Packyard export only")
        return IndexSource(
            source,
            wants_project=selection.takes_project,
            concurrency=concurrency,
        )
    return open_folder_source(Path(source), index)


def _print_import(report: ImportReport, as_json: bool) -> None:
    from packyard.cli.progress import print_summary
    from packyard.services.import_model import Outcome

    counts = {o.value: report.count(o) for o in Outcome}
    sizes = {o.value: report.bytes_of(o) for o in Outcome}
    problems = [
        {"file": r.filename, "outcome": r.outcome.value, "reason": r.reason}
        for r in report.problems
    ]
    if as_json:
        print_json(
            {
                "source": report.source,
                "dry_run": report.dry_run,
                "ok": report.ok,
                "files": counts,
                "bytes": sizes,
                "problems": problems,
            }
        )
        return
    for problem in problems:
        click.echo(f"{problem['outcome'].upper()} {problem['file']}: {problem['reason']}")
    heading = "would import" if report.dry_run else "imported"
    rows = [
        (
            heading if o is Outcome.IMPORTED else o.value.replace("_", " "),
            counts[o.value],
            sizes[o.value],
        )
        for o in Outcome
    ]
    print_summary(report.source, rows)


@click.command("export")
@click.argument("organization")
@click.argument("arguments", nargs=-1, required=True, metavar="[REGISTRY] DIR")
@_every_option
@json_option
@with_services
def export_command(
    services: Services, organization: str, arguments: tuple[str, ...], every: int, as_json: bool
) -> None:
    """Write ORGANIZATION's source registries (or just REGISTRY) into DIR: the files and a
    manifest (packyard-export.json) that `packyard import` reads back."""
    from packyard.cli.progress import human_bytes, progress_for

    if len(arguments) > 2:
        raise click.UsageError("Give at most a REGISTRY and a DIR")
    registry = arguments[0] if len(arguments) == 2 else None
    directory = Path(arguments[-1])
    with progress_for(as_json, every) as progress:
        report = services.exporting.export(organization, registry, directory, progress)
    summary = {"registries": report.registries, "files": report.files, "bytes": report.bytes}
    if as_json:
        print_json({"directory": str(directory), **summary})
    else:
        click.echo(
            f"Exported {report.files} files ({human_bytes(report.bytes)}) of "
            f"{report.registries} registries into {directory}"
        )


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_every_option
@json_option
@data_dir_option
def backup_command(directory: Path, every: int, as_json: bool, data_dir: Path | None) -> None:
    """Back up the embedded database and the blobs it references into DIRECTORY, while
    the server runs; both are checked. Exits 1 when the check finds a problem."""
    from packyard.bootstrap import build_backup
    from packyard.cli.progress import progress_for

    try:
        service = build_backup(load_settings(data_dir))
        with progress_for(as_json, every) as progress:
            report = service.backup(directory, progress)
    except PackyardError as error:
        raise click.ClickException(error.message) from None
    _print_backup("backed up", report, directory, as_json)


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite the database that is there.")
@_every_option
@json_option
@data_dir_option
def restore_command(
    directory: Path, replace: bool, every: int, as_json: bool, data_dir: Path | None
) -> None:
    """Restore a backup made by `packyard backup` (stop the server first): the backup is
    checked, its blobs copied into the store and its database put in place."""
    from packyard.bootstrap import build_backup
    from packyard.cli.progress import progress_for

    try:
        service = build_backup(load_settings(data_dir))
        with progress_for(as_json, every) as progress:
            report = service.restore(directory, progress, replace=replace)
    except PackyardError as error:
        raise click.ClickException(error.message) from None
    _print_backup("restored", report, directory, as_json)


def _print_backup(verb: str, report: BackupReport, directory: Path, as_json: bool) -> None:
    from packyard.cli.progress import human_bytes

    if as_json:
        print_json(
            {
                "ok": report.ok,
                "directory": str(directory),
                "files": report.files,
                "blobs": report.blobs,
                "bytes": report.bytes,
                "problems": report.problems,
            }
        )
    else:
        for problem in report.problems:
            click.echo(f"PROBLEM {problem}")
        if report.ok:
            click.echo(
                f"{verb} {report.files} files, {report.blobs} blobs "
                f"({human_bytes(report.bytes)}), checked: {directory}"
            )
    if not report.ok:
        sys.exit(1)


def register(group: click.Group) -> None:
    for command in (import_command, export_command, backup_command, restore_command):
        group.add_command(command)

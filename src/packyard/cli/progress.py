"""Progress a person can watch: ``rich`` bars per phase (files, bytes, rate, time left) on a
terminal; one plain line every N files in CI or a pipe, where bars would be noise; nothing
with ``--json`` (stdout is for the document)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from packyard.services.import_model import Phase, SilentProgress
from packyard.services.import_model import Progress as ProgressProtocol


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


class _BytesColumn(ProgressColumn):
    """Bytes done and their rate (the bar itself counts files)."""

    def render(self, task: Task) -> Text:
        done: int = task.fields.get("size", 0)
        elapsed = task.elapsed or 0
        rate = f" {human_bytes(done / elapsed)}/s" if elapsed > 0 else ""
        return Text(f"{human_bytes(done)}{rate}")


class _FilesRateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.0f} files/s")


class BarProgress:
    """Bars per phase; ``advance`` may be called from several threads."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[Phase, TaskID] = {}
        self._sizes: dict[Phase, int] = {}
        self._lock = threading.Lock()

    def start(self, phase: Phase, files: int | None, size: int | None) -> None:
        label = phase.value if size is None else f"{phase.value} ({human_bytes(size)})"
        self._sizes[phase] = 0
        self._tasks[phase] = self._progress.add_task(label, total=files, size=0)

    def advance(self, phase: Phase, files: int, size: int) -> None:
        with self._lock:
            self._sizes[phase] += size
            self._progress.update(
                self._tasks[phase], advance=files, size=self._sizes[phase], refresh=False
            )

    def finish(self, phase: Phase) -> None:
        task = self._tasks[phase]
        done = self._progress.tasks[task].completed
        self._progress.update(task, total=done, completed=done)
        self._progress.stop_task(task)  # its rates stop counting time


@dataclass
class LineProgress:
    """``fetch: 200/1000 files, 12.3 MB, 150 files/s`` every ``every`` files, and at the
    end of each phase; ``advance`` may be called from several threads."""

    every: int
    _counts: dict[Phase, list[float]] = field(default_factory=dict)  # files, bytes, start
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, phase: Phase, files: int | None, size: int | None) -> None:
        self._counts[phase] = [0, 0, time.monotonic(), files or 0]

    def advance(self, phase: Phase, files: int, size: int) -> None:
        with self._lock:
            counts = self._counts[phase]
            before = int(counts[0])
            counts[0] += files
            counts[1] += size
            if int(counts[0]) // self.every != before // self.every:
                self._print(phase)

    def finish(self, phase: Phase) -> None:
        self._print(phase, done=True)

    def _print(self, phase: Phase, done: bool = False) -> None:
        files, size, started, total = self._counts[phase]
        elapsed = max(time.monotonic() - started, 1e-9)
        of = f"/{int(total)}" if total else ""
        click.echo(
            f"{phase.value}{' done' if done else ''}: {int(files)}{of} files, "
            f"{human_bytes(size)}, {files / elapsed:.0f} files/s, "
            f"{human_bytes(size / elapsed)}/s",
            err=True,
        )


@contextmanager
def progress_for(as_json: bool, every: int) -> Iterator[ProgressProtocol]:
    """The progress display that suits where output goes (progress goes to stderr)."""
    console = Console(stderr=True)
    if as_json and not console.is_terminal:
        yield SilentProgress()
        return
    if not console.is_terminal:
        yield LineProgress(every)
        return
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        _BytesColumn(),
        _FilesRateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        yield BarProgress(bars)


def print_summary(source: str, rows: list[tuple[str, int, int]]) -> None:
    """The closing table (label, files, bytes): drawn by rich on a terminal, plain aligned
    text in a pipe."""
    console = Console()
    if not console.is_terminal:
        click.echo(f"{'source':<16}{source}")
        for label, files, size in rows:
            click.echo(f"{label:<16}{files:>8} files {human_bytes(size):>10}")
        return
    table = Table(title=source, title_justify="left")
    table.add_column("")
    table.add_column("files", justify="right")
    table.add_column("bytes", justify="right")
    for label, files, size in rows:
        table.add_row(label, str(files), human_bytes(size))
    console.print(table)

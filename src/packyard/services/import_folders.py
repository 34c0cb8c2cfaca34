"""Sources on disk: a folder of distributions (pypiserver's layout), a bandersnatch mirror,
a devpi export and a Packyard export. ``open_folder_source`` tells them apart.

- pypiserver keeps files anywhere below its root; dot-folders (``.git``, ``.cache``) are
  not its packages. Nothing records an upload time, so the file's modification time is it.
- bandersnatch mirrors PyPI into ``web/packages/..`` and, with ``json = true``, keeps
  PyPI's JSON answers in ``web/json/<project>``: upload times, yank state and
  requires-python come from there when present.
- devpi's export (``devpi-export``) is ``dataindex.json`` plus files under ``user/index/``;
  each file's log says when it was uploaded. Mirror indexes hold no files of their own.
- Packyard's export (``packyard export``) is described in ``services.exporting``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packyard.core.errors import InvalidRequest
from packyard.dists.filenames import SDIST_SUFFIXES
from packyard.services.import_model import FetchFailed, Source, SourceFile, stage_chunks
from packyard.services.staging import StagedFile, StagingArea

DISTRIBUTION_SUFFIXES = (".whl", *SDIST_SUFFIXES)
MANIFEST_NAME = "packyard-export.json"
_CHUNK = 1024 * 1024


class _LocalFiles:
    """Fetching from disk, shared by every local source."""

    description = ""

    def fetch(self, file: SourceFile, staging: StagingArea) -> StagedFile:
        try:
            with open(file.location, "rb") as handle:
                return stage_chunks(staging, file.filename, iter(lambda: handle.read(_CHUNK), b""))
        except OSError as error:
            raise FetchFailed(f"cannot read {file.location}: {error.strerror}") from error

    def close(self) -> None:
        pass


def _walk(root: Path) -> Iterator[Path]:
    """Distribution files below ``root``, dot-folders and dot-files skipped, sorted."""
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and name.endswith(DISTRIBUTION_SUFFIXES):
                yield Path(folder) / name


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class FolderSource(_LocalFiles):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"folder {root}"

    def files(self) -> Iterator[SourceFile]:
        for path in _walk(self.root):
            stat = path.stat()
            yield SourceFile(
                path.name,
                str(path),
                uploaded_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                size=stat.st_size,
            )


class BandersnatchSource(_LocalFiles):
    def __init__(self, web: Path) -> None:
        self.web = web
        self.description = f"bandersnatch mirror {web.parent}"

    def files(self) -> Iterator[SourceFile]:
        known = self._json_files()
        for path in _walk(self.web / "packages"):
            entry = known.get(path.name)
            if entry is None:
                yield SourceFile(path.name, str(path), _mtime(path), path.stat().st_size)
            else:
                yield pypi_json_file(entry, str(path))

    def _json_files(self) -> dict[str, dict[str, Any]]:
        """PyPI's JSON answers the mirror kept, by file name (empty without ``json``)."""
        found: dict[str, dict[str, Any]] = {}
        folder = self.web / "json"
        if not folder.is_dir():
            return found
        for path in folder.iterdir():
            try:
                document = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            for release in document.get("releases", {}).values():
                for entry in release:
                    found[entry["filename"]] = entry
        return found


def pypi_json_file(entry: dict[str, Any], location: str) -> SourceFile:
    """A file of PyPI's JSON API (``/pypi/<project>/json``) as a SourceFile."""
    uploaded = entry.get("upload_time_iso_8601") or entry.get("upload_time")
    yanked = bool(entry.get("yanked"))
    return SourceFile(
        entry["filename"],
        location,
        uploaded_at=parse_time(uploaded) if uploaded else None,
        size=entry.get("size"),
        sha256=entry.get("digests", {}).get("sha256"),
        yanked_reason=(entry.get("yanked_reason") or "") if yanked else None,
        requires_python=entry.get("requires_python") or None,
    )


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC), as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class DevpiExportSource(_LocalFiles):
    def __init__(self, root: Path, index: str | None) -> None:
        self.root = root
        self._document = _read_json(root / "dataindex.json")
        self.index = _devpi_index(self._document, index)
        self.description = f"devpi export {root} (index {self.index})"

    def files(self) -> Iterator[SourceFile]:
        config = self._document["indexes"][self.index]
        projects = config.get("projects", {})
        for entry in config.get("files", []):
            if entry.get("type") != "releasefile":
                continue  # toxresults and documentation zips are not distributions
            relpath = entry["relpath"]
            mapping = entry.get("entrymapping", {})
            version = projects.get(entry.get("projectname"), {}).get(entry.get("version"), {})
            yield SourceFile(
                relpath.rsplit("/", 1)[-1],
                str(self.root / relpath),
                uploaded_at=_devpi_upload_time(entry),
                sha256=mapping.get("hashes", {}).get("sha256"),
                requires_python=version.get("requires_python") or None,
            )


def _devpi_index(document: dict[str, Any], wanted: str | None) -> str:
    """The stage index to import: ``wanted``, or the only one holding files."""
    indexes: dict[str, Any] = document.get("indexes", {})
    stages = [name for name, i in indexes.items() if i["indexconfig"].get("type") != "mirror"]
    if wanted is not None:
        if wanted not in indexes:
            raise InvalidRequest(
                f"The devpi export has no index {wanted!r}; it has: {', '.join(indexes)}"
            )
        if wanted not in stages:
            raise InvalidRequest(f"{wanted!r} is a devpi mirror index: it holds no files")
        return wanted
    if len(stages) != 1:
        raise InvalidRequest(
            "Choose the devpi index to import with --index USER/NAME; the export has: "
            + (", ".join(stages) or "none")
        )
    return stages[0]


def _devpi_upload_time(entry: dict[str, Any]) -> datetime | None:
    """The first upload in the file's log (devpi writes UTC as a time tuple)."""
    for record in entry.get("log", []):
        if record.get("what") in ("upload", "push") and record.get("when"):
            year, month, day, hour, minute, second = record["when"][:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


class PackyardExportSource(_LocalFiles):
    """A folder written by ``packyard export``: one registry of its manifest."""

    def __init__(self, root: Path, registry: str | None) -> None:
        self.root = root
        document = _read_json(root / MANIFEST_NAME)
        registries = {r["slug"]: r for r in document.get("registries", [])}
        if registry is None and len(registries) == 1:
            registry = next(iter(registries))
        if registry not in registries:
            raise InvalidRequest(
                "Choose the exported registry to import with --index SLUG; the export has: "
                + (", ".join(registries) or "none")
            )
        self._registry = registries[registry]
        self.description = f"packyard export {root} (registry {registry})"

    def files(self) -> Iterator[SourceFile]:
        for entry in self._registry["files"]:
            yield SourceFile(
                entry["filename"],
                str(self.root / entry["path"]),
                uploaded_at=parse_time(entry["upload_time"]),
                size=entry["size"],
                sha256=entry["sha256"],
                yanked_reason=entry.get("yanked_reason"),
                requires_python=entry.get("requires_python"),
                attestations=entry.get("attestations"),
            )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_bytes())
    except OSError as error:
        raise InvalidRequest(f"Cannot read {path}: {error.strerror}") from error
    except ValueError as error:
        raise InvalidRequest(f"{path} is not valid JSON: {error}") from error
    return document


def open_folder_source(root: Path, index: str | None) -> Source:
    """The source a folder holds, told apart by what is in it."""
    if not root.is_dir():
        raise InvalidRequest(f"{root} is not a folder (nor an http(s) URL of a simple index)")
    if (root / MANIFEST_NAME).is_file():
        return PackyardExportSource(root, index)
    if (root / "dataindex.json").is_file():
        return DevpiExportSource(root, index)
    for web in (root / "web", root):
        if (web / "packages").is_dir() and (web / "simple").is_dir():
            return BandersnatchSource(web)
    if index is not None:
        raise InvalidRequest("--index applies to a devpi or Packyard export only")
    return FolderSource(root)

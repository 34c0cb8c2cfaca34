"""``packyard export``: an organization's source registries as plain files plus one manifest
that ``packyard import`` reads back (``services.import_folders.PackyardExportSource``).

Layout of the folder::

    packyard-export.json            the manifest, written last (a folder without it is an
                                    export that did not finish)
    files/<registry>/<filename>     each file's bytes, checked against its SHA256

The manifest lists each registry (slug, name, description, visibility) and each file's
project, version, upload time, yank state, requires-python, digests, size and attestations:
everything the index pages show that the bytes themselves do not say. Exporting into a
folder that holds an earlier export rewrites only the files that changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from packyard import __version__
from packyard.blobs.base import BlobStore
from packyard.core.errors import InvalidRequest
from packyard.core.models import Registry, RegistryType
from packyard.db.tables import PackageRow
from packyard.dists.digests import MultiHasher
from packyard.services.import_folders import MANIFEST_NAME
from packyard.services.import_model import Phase, Progress
from packyard.services.registries import RegistryService

FORMAT = "packyard-export"
FORMAT_VERSION = 1


@dataclass
class ExportReport:
    registries: int = 0
    files: int = 0
    bytes: int = 0


class ExportService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        blobs: BlobStore,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._blobs = blobs
        self._now = now

    def export(
        self, organization: str, registry: str | None, directory: Path, progress: Progress
    ) -> ExportReport:
        """Write the source registries of ``organization`` (or just ``registry``) into
        ``directory``. Raises NotFound, InvalidRequest; OSError for the folder."""
        chosen = self._chosen(organization, registry)
        report = ExportReport(registries=len(chosen))
        documents = [(target, self._file_entries(target)) for target in chosen]
        total = sum(len(files) for _, files in documents)
        progress.start(Phase.FETCH, total, sum(f["size"] for _, fs in documents for f in fs))
        for target, files in documents:
            folder = directory / "files" / target.slug
            folder.mkdir(parents=True, exist_ok=True)
            for entry in files:
                self._write_blob(entry, directory / entry["path"])
                report.files += 1
                report.bytes += entry["size"]
                progress.advance(Phase.FETCH, 1, entry["size"])
        progress.finish(Phase.FETCH)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "packyard": __version__,
            "exported_at": self._now().isoformat(),
            "organization": organization,
            "registries": [_registry_entry(t, files) for t, files in documents],
        }
        _write_atomically(directory / MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
        return report

    def _chosen(self, organization: str, registry: str | None) -> list[Registry]:
        if registry is not None:
            found = self._registries.find_registry(organization, registry)
            if found.type is not RegistryType.SOURCE:
                raise InvalidRequest(
                    f"{found.slug!r} is a composite registry: it holds no files to export"
                )
            return [found]
        every = self._registries.list_registries(organization)
        return [r for r in every if r.type is RegistryType.SOURCE]

    def _file_entries(self, registry: Registry) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(PackageRow)
                .where(PackageRow.registry_id == registry.id)
                .order_by(PackageRow.seq)
            ).all()
            return [_file_entry(registry, row) for row in rows]

    def _write_blob(self, entry: dict[str, Any], path: Path) -> None:
        """The blob's bytes at ``path``, checked against the SHA256 they are stored under;
        a file already there with the right size is kept (an export run again)."""
        if path.is_file() and path.stat().st_size == entry["size"]:
            return
        hasher = MultiHasher()
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as handle:
            for chunk in self._blobs.read(entry["sha256"]):
                hasher.update(chunk)
                handle.write(chunk)
        if hasher.digests().sha256 != entry["sha256"]:
            partial.unlink()
            raise InvalidRequest(
                f"The stored bytes of {entry['filename']} are damaged (SHA256 mismatch): "
                "run `packyard fsck`"
            )
        partial.replace(path)


def _file_entry(registry: Registry, row: PackageRow) -> dict[str, Any]:
    return {
        "filename": row.filename,
        "project": row.project,
        "version": row.version,
        "path": f"files/{registry.slug}/{row.filename}",
        "size": row.size,
        "sha256": row.sha256,
        "md5": row.md5,
        "blake2b_256": row.blake2b_256,
        "upload_time": row.created_at.isoformat(),
        "yanked_reason": row.yanked_reason,
        "requires_python": row.requires_python,
        "attestations": row.attestations,
        "imported_from": row.imported_from,
    }


def _registry_entry(registry: Registry, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "slug": registry.slug,
        "name": registry.name,
        "description": registry.description,
        "public": registry.public,
        "files": files,
    }


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)

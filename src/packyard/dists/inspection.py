"""Open an uploaded archive safely, list its members and read its core metadata.

Nothing is extracted to disk. Member names are checked (no absolute paths, no ``..``, no
duplicates), tar and zip members must be regular files or directories, and the expanded
size is bounded both absolutely and by ratio, so a zip bomb is refused before anything
reads it. Archives inside the archive are members like any other: never opened. A wheel's
WHEEL and RECORD files must agree with its members (``dists.wheel_files``).
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packyard.core.errors import InvalidDistribution
from packyard.core.models import ArchiveMember, FileType
from packyard.dists.filenames import ParsedFilename, parse_filename
from packyard.dists.limits import DEFAULT_LIMITS, ArchiveLimits
from packyard.dists.metadata import CoreMetadata, parse_core_metadata
from packyard.dists.wheel_files import check_wheel_files


@dataclass(frozen=True, slots=True)
class Inspection:
    filename: ParsedFilename
    metadata: CoreMetadata
    members: list[ArchiveMember]
    # The wheel's METADATA bytes, served as is for PEP 658; None for sdists.
    wheel_metadata: bytes | None


def inspect_distribution(
    path: Path, filename: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> Inspection:
    """Inspect the distribution stored at ``path`` and uploaded as ``filename``.

    Raises InvalidDistribution naming the first problem found.
    """
    parsed = parse_filename(filename)
    compressed_size = path.stat().st_size
    wheel_files: dict[str, bytes] = {}
    if filename.endswith(".tar.gz"):
        members, metadata_bytes, source = _read_tar_sdist(path, limits, compressed_size)
    else:
        members, metadata_bytes, source = _read_zip(
            path, parsed, limits, compressed_size, wheel_files
        )
    metadata = parse_core_metadata(metadata_bytes, source)
    _check_agreement(filename, parsed, metadata)
    if parsed.filetype is FileType.WHEEL:
        dist_info = source.rsplit("/", 1)[0]
        check_wheel_files(dist_info, members, wheel_files["WHEEL"], wheel_files["RECORD"])
    wheel_metadata = metadata_bytes if parsed.filetype is FileType.WHEEL else None
    return Inspection(parsed, metadata, members, wheel_metadata)


def _check_agreement(filename: str, parsed: ParsedFilename, metadata: CoreMetadata) -> None:
    if metadata.project != parsed.project:
        raise InvalidDistribution(
            f"File name {filename!r} names project {parsed.project!r} but its metadata "
            f"says Name: {metadata.name}"
        )
    if metadata.version != parsed.version:
        raise InvalidDistribution(
            f"File name {filename!r} names version {parsed.version} but its metadata "
            f"says Version: {metadata.version}"
        )


def _check_member_name(name: str) -> str:
    """Return the member's path without a trailing slash, or refuse an unsafe one."""
    while name.startswith("./"):
        name = name[2:]
    if "\x00" in name or "\\" in name:
        raise InvalidDistribution(f"Archive member {name!r} has a NUL or backslash in its path")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidDistribution(f"Archive member {name!r} has an absolute path")
    if ".." in name.split("/"):
        raise InvalidDistribution(f"Archive member {name!r} has a '..' path component")
    return name.rstrip("/")


class _ExpansionBudget:
    """Tracks the sum of member sizes against the absolute and ratio limits."""

    def __init__(self, limits: ArchiveLimits, compressed_size: int) -> None:
        self._limits = limits
        self._compressed = max(compressed_size, 1)
        self.expanded = 0
        self.count = 0

    def add(self, size: int) -> None:
        self.expanded += size
        self.count += 1
        limits = self._limits
        if self.count > limits.max_members:
            raise InvalidDistribution(f"Archive has more than {limits.max_members} members")
        if self.expanded > limits.max_expanded_bytes:
            raise InvalidDistribution(
                f"Archive expands past {limits.max_expanded_bytes} bytes; refusing it as a "
                "possible zip bomb"
            )
        ratio = self.expanded / self._compressed
        if self.expanded > limits.ratio_applies_above_bytes and ratio > limits.max_ratio:
            raise InvalidDistribution(
                f"Archive expands {ratio:.0f} times its size (limit {limits.max_ratio:.0f}); "
                "refusing it as a possible zip bomb"
            )


def _unique_members(entries: Iterable[tuple[str, int, bool]]) -> list[ArchiveMember]:
    """Build the member list from (name, size, is_dir) entries, refusing duplicate files."""
    seen: set[str] = set()
    members: list[ArchiveMember] = []
    for name, size, is_dir in entries:
        path = _check_member_name(name)
        if is_dir or not path:
            continue
        if path in seen:
            raise InvalidDistribution(f"Archive member {path!r} appears more than once")
        seen.add(path)
        members.append(ArchiveMember(path, size))
    return members


def _read_zip(
    path: Path,
    parsed: ParsedFilename,
    limits: ArchiveLimits,
    compressed_size: int,
    wheel_files: dict[str, bytes],
) -> tuple[list[ArchiveMember], bytes, str]:
    """Members, metadata bytes and their path; a wheel's WHEEL and RECORD bytes go into
    ``wheel_files``."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            budget = _ExpansionBudget(limits, compressed_size)
            for info in infos:
                _check_zip_member_type(info)
                budget.add(info.file_size)
            members = _unique_members((i.filename, i.file_size, i.is_dir()) for i in infos)
            names = {m.path for m in members}
            if parsed.filetype is FileType.WHEEL:
                source = _wheel_metadata_path(names, parsed)
                dist_info = source.rsplit("/", 1)[0]
                for extra in ("WHEEL", "RECORD"):
                    wheel_files[extra] = _read_zip_member(archive, f"{dist_info}/{extra}", limits)
            else:
                source = _sdist_pkg_info_path(names)
            data = _read_zip_member(archive, source, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as error:
        raise InvalidDistribution(f"Not a readable zip archive: {error}") from None
    except NotImplementedError as error:  # unsupported compression method
        raise InvalidDistribution(f"Zip archive uses an unsupported feature: {error}") from None
    return members, data, source


def _check_zip_member_type(info: zipfile.ZipInfo) -> None:
    # Zips made on Unix keep the file mode in the top 16 bits of the external attributes;
    # many tools leave the file type bits out, which means a regular file.
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.create_system == 3 and kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise InvalidDistribution(
            f"Archive member {info.filename!r} is a symbolic link or special file; "
            "only regular files are accepted"
        )


def _read_zip_member(archive: zipfile.ZipFile, name: str, limits: ArchiveLimits) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limits.max_metadata_bytes:
        raise InvalidDistribution(f"{name} is larger than {limits.max_metadata_bytes} bytes")
    with archive.open(info) as handle:
        data = handle.read(limits.max_metadata_bytes + 1)
    if len(data) > limits.max_metadata_bytes:
        raise InvalidDistribution(f"{name} is larger than {limits.max_metadata_bytes} bytes")
    return data


def _wheel_metadata_path(names: set[str], parsed: ParsedFilename) -> str:
    dist_infos = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    if len(dist_infos) != 1:
        found = ", ".join(sorted(dist_infos)) or "none"
        raise InvalidDistribution(
            f"A wheel must hold exactly one top-level .dist-info directory; found {found}"
        )
    dist_info = dist_infos.pop()
    for required in ("METADATA", "WHEEL", "RECORD"):
        if f"{dist_info}/{required}" not in names:
            raise InvalidDistribution(f"Wheel has no {dist_info}/{required}")
    return f"{dist_info}/METADATA"


def _sdist_pkg_info_path(names: set[str]) -> str:
    candidates = sorted(n for n in names if n.count("/") == 1 and n.endswith("/PKG-INFO"))
    if len(candidates) != 1:
        raise InvalidDistribution(
            "An sdist must hold exactly one PKG-INFO in its top-level directory; "
            f"found {len(candidates)}"
        )
    return candidates[0]


def _read_tar_sdist(
    path: Path, limits: ArchiveLimits, compressed_size: int
) -> tuple[list[ArchiveMember], bytes, str]:
    budget = _ExpansionBudget(limits, compressed_size)
    entries: list[tuple[str, int, bool]] = []
    pkg_info: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for info in archive:
                _check_tar_member_type(info)
                budget.add(info.size)
                entries.append((info.name, info.size, info.isdir()))
                clean = posixpath.normpath(info.name)
                if info.isfile() and clean.count("/") == 1 and clean.endswith("/PKG-INFO"):
                    pkg_info[clean] = _read_tar_member(archive, info, limits)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InvalidDistribution(f"Not a readable .tar.gz archive: {error}") from None
    members = _unique_members(entries)
    source = _sdist_pkg_info_path({m.path for m in members if m.path in pkg_info})
    return members, pkg_info[source], source


def _check_tar_member_type(info: tarfile.TarInfo) -> None:
    if info.issym() or info.islnk():
        raise InvalidDistribution(f"Archive member {info.name!r} is a link; links are refused")
    if not (info.isfile() or info.isdir()):
        raise InvalidDistribution(
            f"Archive member {info.name!r} is a device, FIFO or other special file"
        )


def _read_tar_member(
    archive: tarfile.TarFile, info: tarfile.TarInfo, limits: ArchiveLimits
) -> bytes:
    if info.size > limits.max_metadata_bytes:
        raise InvalidDistribution(f"{info.name} is larger than {limits.max_metadata_bytes} bytes")
    handle = archive.extractfile(info)
    if handle is None:
        raise InvalidDistribution(f"Cannot read {info.name} from the archive")
    with handle:
        return handle.read()

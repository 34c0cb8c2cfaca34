"""A wheel's own bookkeeping: the WHEEL file and the RECORD (PEP 427, PEP 491).

Installers trust these files: WHEEL says how to install the wheel and RECORD lists what it
installs. A wheel whose RECORD does not match its members could install files nobody
reviewed, so the member list and RECORD must agree exactly (paths and declared sizes).
Hashes in RECORD are checked for their form but not recomputed: that would decompress the
whole archive, and installers check them when they unpack.

To check more, add a function here and call it from ``check_wheel_files``.
"""

from __future__ import annotations

import csv
import io

from packaging.metadata import parse_email

from packyard.core.errors import InvalidDistribution
from packyard.core.models import ArchiveMember

# RECORD lists every file except itself and its signatures (PEP 427).
_UNRECORDED = ("RECORD", "RECORD.jws", "RECORD.p7s")
_HASH_ALGORITHMS = {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b"}


def check_wheel_files(
    dist_info: str, members: list[ArchiveMember], wheel: bytes, record: bytes
) -> None:
    """Raise InvalidDistribution unless WHEEL is readable with a supported Wheel-Version and
    RECORD lists exactly the archive's files with their sizes."""
    _check_wheel(dist_info, wheel)
    _check_record(dist_info, members, record)


def _check_wheel(dist_info: str, wheel: bytes) -> None:
    source = f"{dist_info}/WHEEL"
    try:
        _raw, unparsed = parse_email(wheel)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidDistribution(f"{source} is not readable: {error}") from None
    versions = unparsed.get("wheel-version", [])
    if len(versions) != 1:
        raise InvalidDistribution(f"{source} must have exactly one Wheel-Version field")
    major, _, _minor = versions[0].strip().partition(".")
    if major != "1":
        raise InvalidDistribution(
            f"{source} has Wheel-Version {versions[0].strip()!r}; only 1.x wheels are accepted"
        )


def _check_record(dist_info: str, members: list[ArchiveMember], record: bytes) -> None:
    source = f"{dist_info}/RECORD"
    try:
        rows = list(csv.reader(io.StringIO(record.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidDistribution(f"{source} is not a readable CSV file: {error}") from None
    sizes = {m.path: m.size for m in members}
    recorded: set[str] = set()
    for row in rows:
        if not row or not row[0]:
            continue
        path = row[0].removeprefix("./")
        if path in recorded:
            raise InvalidDistribution(f"{source} lists {path!r} more than once")
        recorded.add(path)
        if path not in sizes:
            raise InvalidDistribution(f"{source} lists {path!r}, which the wheel does not hold")
        _check_record_row(source, path, row, sizes[path])
    unrecorded = {f"{dist_info}/{name}" for name in _UNRECORDED}
    missing = sorted(set(sizes) - recorded - unrecorded)
    if missing:
        shown = ", ".join(repr(p) for p in missing[:5])
        raise InvalidDistribution(f"{source} does not list {len(missing)} file(s): {shown}")


def _check_record_row(source: str, path: str, row: list[str], size: int) -> None:
    digest = row[1] if len(row) > 1 else ""
    declared = row[2] if len(row) > 2 else ""
    if digest:
        algorithm, _, value = digest.partition("=")
        if algorithm not in _HASH_ALGORITHMS or not value:
            raise InvalidDistribution(f"{source} has an unusable hash for {path!r}: {digest!r}")
    if declared and declared != str(size):
        raise InvalidDistribution(
            f"{source} says {path!r} is {declared} bytes, but the wheel holds {size}"
        )

"""Hostile and odd archives, built in memory: a valid wheel or sdist from ``builders`` taken
apart and put back together with one thing wrong."""

from __future__ import annotations

import io
import tarfile
import warnings
import zipfile

from tests.support.builders import Dist, sdist_bytes, wheel_bytes

GIB = 1024**3


def wheel_members(dist: Dist) -> dict[str, bytes]:
    """The members of a valid wheel of ``dist``, in order, to edit before ``make_zip``."""
    with zipfile.ZipFile(io.BytesIO(wheel_bytes(dist))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(
    members: dict[str, bytes] | list[tuple[str, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    symlinks: tuple[str, ...] = (),
) -> bytes:
    """A zip of ``members`` (a list may repeat a name); names in ``symlinks`` are stored as
    Unix symbolic links."""
    items = list(members.items()) if isinstance(members, dict) else members
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name", on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in items:
                info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
                info.compress_type = compression
                if name in symlinks:
                    info.create_system = 3
                    info.external_attr = (0o120777) << 16
                archive.writestr(info, data)
    return buffer.getvalue()


def zip_declaring_size(members: dict[str, bytes], name: str, declared: int) -> bytes:
    """A zip whose central directory claims member ``name`` expands to ``declared`` bytes
    (a bomb that lies about nothing but its size is caught by the sum of the sizes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for member, data in members.items():
            archive.writestr(zipfile.ZipInfo(member, (2024, 1, 1, 0, 0, 0)), data)
        for info in archive.filelist:
            if info.filename == name:
                info.file_size = declared
    return buffer.getvalue()


def sdist_with(dist: Dist, *extra: tarfile.TarInfo, data: bytes = b"") -> bytes:
    """The sdist of ``dist`` with ``extra`` tar members appended (regular ones carry
    ``data``)."""
    buffer = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(sdist_bytes(dist))) as source,
        tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as target,
    ):
        for info in source:
            target.addfile(info, source.extractfile(info))
        for info in extra:
            if info.isfile():
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
            else:
                target.addfile(info)
    return buffer.getvalue()


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def multipart_body(filename: bytes, data: bytes, boundary: bytes = b"b0undary") -> bytes:
    """A multipart/form-data body with one ``file`` part whose file name is ``filename``
    as raw bytes (clients escape control characters; an attacker does not)."""
    return (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )

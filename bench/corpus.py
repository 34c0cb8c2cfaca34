"""The benchmark corpus: real wheels and sdists with real metadata and dependency chains,
built directly by ``tests/support/builders.py`` (no build backend), the same bytes on every
run for the same sizes.

Layout: projects ``bench-pkg-0000`` … each with ``versions`` releases, a wheel and an sdist
for each. The first ``install_deps`` projects form the dependency tree of ``bench-app``
(the package pip and uv install): the app requires the first third directly, and each of
those requires the next ones in a chain, so resolving is several rounds deep.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.builders import FIXED_DATE, Dist, metadata_text, write_sdist, write_wheel

APP = "bench-app"
HUGE = "bench-huge"
CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Corpus:
    directory: Path
    projects: list[str]  # normalised names, sorted
    files: list[Path]  # every file, in upload order
    app_requirement: str


def project_name(number: int) -> str:
    return f"bench-pkg-{number:04d}"


def _requirements(number: int, install_deps: int) -> list[str]:
    """Inside the install tree, project k requires k + third (a chain three levels deep)."""
    third = max(1, install_deps // 3)
    nxt = number + third
    if number < install_deps and nxt < install_deps:
        return [f"{project_name(nxt)}>=1.0"]
    return []


def build_corpus(directory: Path, projects: int, versions: int, install_deps: int) -> Corpus:
    """Write the corpus under ``directory`` (reused when already complete)."""
    directory.mkdir(parents=True, exist_ok=True)
    dists: list[Dist] = []
    for number in range(projects):
        for minor in range(versions):
            dists.append(
                Dist(
                    project_name(number),
                    f"1.{minor}.0",
                    requires=_requirements(number, install_deps),
                    requires_python=">=3.8",
                    summary=f"Benchmark package number {number}",
                    description=f"# {project_name(number)}\n\n" + "Lorem ipsum. " * 40,
                )
            )
    third = max(1, install_deps // 3)
    app_requires = [f"{project_name(k)}>=1.0" for k in range(min(third, install_deps))]
    dists.append(Dist(APP, "1.0.0", requires=app_requires, requires_python=">=3.8"))
    files: list[Path] = []
    for dist in dists:
        for writer, name in (
            (write_wheel, dist.wheel_filename),
            (write_sdist, dist.sdist_filename),
        ):
            path = directory / name
            files.append(path if path.exists() else writer(dist, directory))
    names = sorted({d.name for d in dists})
    return Corpus(directory, names, files, f"{APP}==1.0.0")


def build_huge_wheel(directory: Path, size: int) -> Path:
    """A valid wheel of about ``size`` bytes: one stored (uncompressed) data member of
    deterministic bytes, streamed to disk so the harness never holds it in memory."""
    dist = Dist(HUGE, "1.0.0")
    path = directory / dist.wheel_filename
    if path.exists() and path.stat().st_size >= size:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    dist_info = f"{dist.module}-{dist.version}.dist-info"
    block = hashlib.shake_256(b"packyard-bench").digest(CHUNK)
    digest = hashlib.sha256()
    member = f"{dist.module}/data.bin"
    record: list[str] = []
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        info = zipfile.ZipInfo(member, FIXED_DATE)
        written = 0
        with archive.open(info, "w", force_zip64=True) as handle:
            while written < size:
                piece = block[: min(CHUNK, size - written)]
                handle.write(piece)
                digest.update(piece)
                written += len(piece)
        record.append(_record_line(member, digest.digest(), written))
        small = {
            f"{dist.module}/__init__.py": b'__version__ = "1.0.0"\n',
            f"{dist_info}/METADATA": metadata_text(dist).encode(),
            f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        for name, data in small.items():
            archive.writestr(zipfile.ZipInfo(name, FIXED_DATE), data)
            record.append(_record_line(name, hashlib.sha256(data).digest(), len(data)))
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", FIXED_DATE), "\n".join(record))
    partial.rename(path)
    return path


def _record_line(path: str, sha256: bytes, size: int) -> str:
    import base64

    encoded = base64.urlsafe_b64encode(sha256).rstrip(b"=").decode()
    return f"{path},sha256={encoded},{size}"

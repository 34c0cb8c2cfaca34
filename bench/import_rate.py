"""How fast ``packyard import`` moves a registry in: ``python3 bench/import_rate.py``.

1. ``--files`` small wheels (default 10,000: ``--projects`` projects of several versions
   each; ``--payload-kib`` makes them bigger, for a rate in MB/s that means something)
   are written into a folder, and imported into a source server's registry: the
   rate of a pypiserver-style folder import.
2. That server serves its index (``packyard serve --workers 2``, SQLite, local blobs) on
   loopback with a read token, and a second data directory imports the whole registry from
   the index URL (PEP 691 JSON, concurrent downloads, every SHA256 checked): the rate of
   an import from any index.

Each import runs as the ``packyard import`` command an administrator runs (``--json``);
the rates are files and megabytes recorded per second of the command's wall time, scan
included. Both servers share the machine with the importer, as they would on one host.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.builders import Dist, wheel_bytes  # noqa: E402
from tests.support.server import PackyardServer  # noqa: E402

from bench.servers import ORGANIZATION, Packyard  # noqa: E402


def write_corpus(folder: Path, files: int, projects: int, payload: int) -> int:
    """``files`` wheels over ``projects`` projects, each carrying ``payload`` bytes that do
    not compress; returns their total size."""
    folder.mkdir(parents=True)
    total = 0
    for number in range(files):
        name = f"imported-{number % projects}"
        extra = {}
        if payload:
            noise = hashlib.shake_256(str(number).encode()).digest(payload)
            extra = {f"{name.replace('-', '_')}/payload.bin": noise}
        dist = Dist(name, f"1.{number // projects}", extra_files=extra)
        data = wheel_bytes(dist)
        (folder / dist.wheel_filename).write_bytes(data)
        total += len(data)
    return total


def run_packyard(server: PackyardServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``packyard ARGS`` on ``server``'s data, without the test helper's one-minute limit."""
    result = subprocess.run(
        [sys.executable, "-m", "packyard.cli.main", *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"packyard {' '.join(args)} failed: {result.stderr[-4000:]}")
    return result


def timed_import(server: PackyardServer, slug: str, source: str) -> dict[str, Any]:
    started = time.monotonic()
    result = run_packyard(server, "import", ORGANIZATION, slug, source, "--json")
    elapsed = time.monotonic() - started
    report: dict[str, Any] = json.loads(result.stdout)
    imported = report["files"]["imported"]
    size = report["bytes"]["imported"]
    return {
        "files": imported,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "files_per_second": round(imported / elapsed, 1),
        "mb_per_second": round(size / elapsed / 1e6, 2),
        "problems": len(report["problems"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=1_000)
    parser.add_argument(
        "--payload-kib", type=int, default=0, help="Incompressible bytes added to each wheel."
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="packyard-import-bench-"))
    corpus_bytes = write_corpus(
        workdir / "corpus", args.files, args.projects, args.payload_kib * 1024
    )

    source = Packyard(workdir / "source")
    slug, write, read = source.setup_data()
    folder = timed_import(source.server, slug, str(workdir / "corpus"))
    target = source.start(slug, write, read)
    try:
        destination = PackyardServer(workdir / "destination" / "data", workdir / "dest.log")
        destination.cli("org", "create", ORGANIZATION)
        dest_slug = destination.cli("registry", "create", ORGANIZATION, "Moved").stdout.strip()
        index = timed_import(destination, dest_slug, target.index_url)
    finally:
        source.server.stop()
    print(
        json.dumps(
            {
                "corpus": {"files": args.files, "projects": args.projects, "bytes": corpus_bytes},
                "folder_import": folder,
                "index_import_over_loopback": index,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""A bounded soak of ``packyard serve`` as deployed by default (granian, access log on) on
loopback: ``python3 bench/soak.py [--seconds 600] [--workers 2] [--server granian]``.

Mixed load for ``--seconds``: wrk on index pages (root and project pages) and wrk on file
downloads, both for the whole time, and a publish every second (a new version of one
project, through the upload API). Every 30 s the RSS and open file descriptors of each
worker (and of the supervisor) are recorded, and whether a worker was replaced; at the end,
the requests and the answers outside 2xx of each kind, and the growth of RSS and fds from
the first sample to the last. Prints one JSON object. The access log goes to /dev/null (at
tens of thousands of requests a second it would fill the disk); it is still written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.support.builders import Dist, write_wheel  # noqa: E402
from tests.support.driver import Registry, new_organization  # noqa: E402
from tests.support.server import PackyardServer, worker_pids  # noqa: E402

from bench.load import LoadResult, run_load  # noqa: E402
from bench.servers import basic_header  # noqa: E402

SAMPLE_SECONDS = 30
PROJECTS = 20  # published before the load: the pages and files read


def _process_sample(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kib = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
    )
    return {"pid": pid, "rss_kib": rss_kib, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def _sample(supervisor: int, started: float) -> dict[str, Any]:
    return {
        "at_seconds": round(time.monotonic() - started),
        "supervisor": _process_sample(supervisor),
        "workers": [_process_sample(pid) for pid in sorted(worker_pids(supervisor))],
    }


def _publisher(
    registry: Registry, token: str, workdir: Path, stop: threading.Event, tally: dict[str, Any]
) -> None:
    """A new version of ``soak-publish`` every second until ``stop``; counts answers."""
    version = 0
    while not stop.wait(1.0):
        version += 1
        path = write_wheel(Dist("soak-publish", f"1.{version}"), workdir)
        try:
            with path.open("rb") as handle:
                answer = httpx.post(
                    registry.publish_url,
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": (path.name, handle)},
                    timeout=60,
                )
            status = answer.status_code
        except httpx.HTTPError as error:
            status = 0
            tally["errors"].append(repr(error))
        path.unlink()
        tally["published"] += 1
        if not 200 <= status < 300:
            tally["non_2xx"] += 1
            tally["statuses"].append(status)


def _growth(samples: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = samples[0], samples[-1]

    def total(sample: dict[str, Any], key: str) -> int:
        return sum(worker[key] for worker in sample["workers"])

    return {
        "workers_rss_mib": [
            round(total(first, "rss_kib") / 1024, 1),
            round(total(last, "rss_kib") / 1024, 1),
        ],
        "workers_fds": [total(first, "fds"), total(last, "fds")],
        "supervisor_rss_mib": [
            round(first["supervisor"]["rss_kib"] / 1024, 1),
            round(last["supervisor"]["rss_kib"] / 1024, 1),
        ],
        "worker_pids_changed": [w["pid"] for w in first["workers"]]
        != [w["pid"] for w in last["workers"]],
    }


def _setup(server: PackyardServer, workdir: Path) -> tuple[Registry, str, str, list[str]]:
    """An organization, a registry and ``PROJECTS`` projects; returns the registry, a write
    token, a read token and the path of one file of each project."""
    organization = new_organization(server)
    registry = organization.registry("Soak")
    write = organization.token("read_packages", "write_packages")
    files = []
    for n in range(PROJECTS):
        dist = Dist(f"soak-{n}", "1.0", extra_files={f"soak_{n}/data.bin": bytes(64 * 1024)})
        registry.publish(write_wheel(dist, workdir), write)
        files.append(dist.wheel_filename)
    return registry, write, registry.token(), files


def soak(seconds: int, workers: int, http_server: str, workdir: Path) -> dict[str, Any]:
    server = PackyardServer(
        workdir / "data", Path(os.devnull), workers=workers, access_log=True, server=http_server
    )
    server.start()
    try:
        assert server.process is not None
        supervisor = server.process.pid
        registry, write, read, files = _setup(server, workdir)
        prefix = registry.simple_url.split(server.base_url, 1)[1]
        headers = {"Authorization": basic_header("x", read)}
        pages = [prefix, *(f"{prefix}soak-{n}/" for n in range(PROJECTS))]
        downloads = [prefix.replace("/simple/", "/files/") + name for name in files]
        results: dict[str, LoadResult] = {}

        def load(kind: str, paths: list[str], concurrency: int) -> None:
            results[kind] = run_load(
                server.base_url, paths, headers, concurrency, seconds, supervisor,
                workdir / kind,
            )  # fmt: skip

        loads = [
            threading.Thread(target=load, args=("pages", pages, 32)),
            threading.Thread(target=load, args=("downloads", downloads, 8)),
        ]
        stop = threading.Event()
        tally: dict[str, Any] = {"published": 0, "non_2xx": 0, "statuses": [], "errors": []}
        publisher = threading.Thread(
            target=_publisher, args=(registry, write, workdir, stop, tally)
        )
        started = time.monotonic()
        for thread in [*loads, publisher]:
            thread.start()
        samples = [_sample(supervisor, started)]
        while any(thread.is_alive() for thread in loads):
            for thread in loads:
                thread.join(timeout=SAMPLE_SECONDS / len(loads))
            if time.monotonic() - started >= SAMPLE_SECONDS * len(samples):
                samples.append(_sample(supervisor, started))
        stop.set()
        publisher.join()
        samples.append(_sample(supervisor, started))
        return {
            "seconds": seconds, "workers": workers, "server": http_server,
            "loads": {kind: asdict(result) | {"rps": result.rps}
                      for kind, result in results.items()},
            "publishes": tally, "growth": _growth(samples), "samples": samples,
        }  # fmt: skip
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="packyard-soak-") as workdir:
        print(json.dumps(soak(options.seconds, options.workers, options.server, Path(workdir)),
                         indent=1))  # fmt: skip


if __name__ == "__main__":
    main()

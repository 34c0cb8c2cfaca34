"""pip and uv from Packyard and nginx taking turns: ``python3 bench/install_probe.py``.

Issue 20 asks that ``pip install`` and ``uv pip install`` of the benchmark's dependency
chain (``bench-app`` and the 30 projects it pulls in) be no slower from Packyard than from
nginx serving the same index as static files. One install takes about a second, and pip's
wall time on a shared 2-core machine varies by a third from one install to the next, so a
median of three installs per server, measured minutes apart (the full run's table), cannot
tell a 10% difference from noise. Here the two servers take turns install after install,
the first alternating round by round, so whatever else the machine does falls on both
alike; the report gives each server's median and every install.

Packyard runs as the full run's embedded default (``packyard serve --workers 2``, access
log on, a private registry read with a token in the index URL, as its users read it);
nginx serves Packyard's own pages, files and PEP 658 ``.metadata`` files, saved to disk
(``bench/nginx_static.py``), anonymously. Each install goes into a fresh virtual
environment with no cache.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLIENTS = ("pip", "uv")


def run(workdir: Path, rounds: int, install_deps: int = 30) -> dict[str, Any]:
    """Publish the chain into Packyard, save its index for nginx, then install from each in
    turn, ``rounds`` times per client; the seconds of every install and their medians."""
    from bench import nginx_static, scenarios
    from bench.corpus import build_corpus
    from bench.report import NGINX, PACKYARD
    from bench.servers import Packyard

    nginx = nginx_static.nginx_binary(install=True)
    if nginx is None:
        raise RuntimeError("nginx is not installed (Debian's nginx-light)")
    corpus = build_corpus(workdir / "corpus", install_deps, 1, install_deps)
    yard = Packyard(workdir / f"packyard-{int(time.time())}")
    slug, write, read = yard.setup_data()
    packyard = yard.start(slug, write, read)
    static = None
    try:
        scenarios.rest_publish(packyard, corpus.files)
        nginx_static.mirror(packyard, corpus.projects, workdir / "static")
        static = nginx_static.start_nginx(
            nginx, workdir / "static", workdir / "nginx", packyard.root_path,
            packyard.project_prefix,
        )  # fmt: skip
        servers = {PACKYARD: packyard.index_url, NGINX: static.index_url}
        seconds: dict[str, dict[str, list[float]]] = {
            name: {client: [] for client in CLIENTS} for name in servers
        }
        for round_number in range(rounds):
            order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
            for client in CLIENTS:
                for name in order:
                    taken = scenarios.install_seconds(servers[name], corpus.app_requirement, client)
                    seconds[name][client].append(round(taken, 3))
                    print(f"round {round_number} {client} {name}: {taken:.2f} s", flush=True)
    finally:
        if static is not None:
            static.stop()
        packyard.stop()
    return {
        "rounds": rounds,
        "requirement": corpus.app_requirement,
        "distributions": install_deps + 1,
        "seconds": seconds,
        "median_seconds": {
            name: {client: statistics.median(times) for client, times in by_client.items()}
            for name, by_client in seconds.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "installs")
    args = parser.parse_args()
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        python = ROOT / ".venv" / "bin" / "python"
        os.execv(str(python), [str(python), *sys.argv])  # noqa: S606
    print(json.dumps(run(args.workdir, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

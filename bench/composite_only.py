"""Just the composite case of the benchmark, for quick iterations on composite reads:
``.venv/bin/python bench/composite_only.py [--seconds 6] [--concurrency 64] [--keep]``.

Starts Packyard (``bench/servers.py``) and the PyPI stand-in, publishes a small corpus,
then measures the same project pages read from the source registry and through the
composite, exactly as ``bench/composite.run_composite`` does in the full run. With
``--keep`` the server stays up until Enter is pressed (to attach a profiler).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import composite, scenarios  # noqa: E402
from bench.corpus import build_corpus  # noqa: E402
from bench.servers import Packyard  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="wait for Enter before stopping")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "composite")
    args = parser.parse_args()
    workdir: Path = args.workdir.resolve()
    corpus = build_corpus(workdir / "corpus", args.projects, 2, 4)
    shutil.rmtree(workdir / "packyard", ignore_errors=True)
    stand_in = composite.PypiStandIn(workdir, corpus.projects)
    yard = Packyard(workdir / "packyard", extra_env={"PACKYARD_PYPI_URL": stand_in.url})
    try:
        slug, write, read = yard.setup_data()
        target = yard.start(slug, write, read)
        try:
            scenarios.rest_publish(target, corpus.files)
            projects = corpus.projects[: min(50, len(corpus.projects))]
            result = composite.run_composite(
                yard, target, slug, projects, args.concurrency, args.seconds,
                workdir / "load", use_wrk=True,
            )  # fmt: skip
            print(json.dumps(result, indent=2))
            if result.get("status") == "measured":
                source, through = result["source"], result["composite"]
                print(
                    f"source {source['rps']:.0f} req/s p50 {source['p50_ms']:.2f} ms "
                    f"p99 {source['p99_ms']:.2f} ms | composite {through['rps']:.0f} req/s "
                    f"p50 {through['p50_ms']:.2f} ms p99 {through['p99_ms']:.2f} ms | "
                    f"p50 ratio {through['p50_ms'] / source['p50_ms']:.2f}"
                )
            if args.keep:
                print(f"server pid {target.pid} at {target.base_url}; Enter stops it")
                input()
        finally:
            target.stop()
    finally:
        stand_in.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

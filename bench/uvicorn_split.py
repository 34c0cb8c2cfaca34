"""Where a cached read's CPU goes on uvicorn, without the network: uvicorn's own HTTP
protocol (httptools, uvloop) fed requests in memory, answering through the do-nothing app
of ``bench/ceiling.py`` or through Packyard, and Packyard's application called alone
(issue 20).

``python bench/uvicorn_split.py [--seconds 3] [--rounds 3] [--scenario pages|files]``

Why: a sampling profiler attached to a loaded server charges a syscall or a moment spent
waiting for a core (the load generator shares the machine) to the Python line that made
it, and the loopback's kernel work varies with the request rate; this measures process
CPU time over many requests with nothing else in the way. Three cases take turns, each in
a fresh process, 64 connections answered per turn of the event loop:

- ``uvicorn + do-nothing app``: what uvicorn costs per request by itself;
- ``uvicorn + Packyard``: the same with Packyard's application (access log on);
- ``Packyard app alone``: the application called directly, one request after another.

Packyard serves a small corpus (set up with ``packyard serve`` and published over REST,
as the other benchmarks do), read with a registry token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORK = ROOT / "bench" / ".work" / "uvicorn-split"
CASES = ("uvicorn + do-nothing app", "uvicorn + Packyard", "Packyard app alone")
CONNECTIONS = 64


def _prepare(workdir: Path) -> dict[str, Any]:
    """Packyard's data with a small corpus published; the paths and headers to read."""
    from bench.corpus import build_corpus
    from bench.scenarios import linked_paths, rest_publish
    from bench.servers import Packyard

    corpus = build_corpus(workdir / "corpus", 30, 1, 0)
    yard = Packyard(workdir / "packyard", workers=1)
    target = yard.start(*yard.setup_data())
    try:
        published = rest_publish(target, corpus.files)
        if "error" in published:
            raise RuntimeError(published["error"])
        with httpx.Client(base_url=target.base_url, headers=target.read_headers) as client:
            files = [
                f for p in corpus.projects for f in linked_paths(client, target.project_path(p))
            ]
    finally:
        target.stop()
    pages = [target.project_path(p) for p in corpus.projects]
    return {
        "data_dir": str(workdir / "packyard" / "data"),
        "headers": target.read_headers,
        "paths": {"pages": pages, "files": files},
    }


class _Transport(asyncio.Transport):
    """A connection whose bytes go nowhere: uvicorn writes the answer, nobody reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        addresses = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}
        return addresses.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _measure(case: str, setup: dict[str, Any], scenario: str, seconds: float) -> float:
    """CPU µs per request of ``case``, after a warm-up."""
    from uvicorn.config import Config
    from uvicorn.lifespan.on import LifespanOn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    if case == CASES[0]:
        config = Config("bench.ceiling:app", proxy_headers=False, log_level="warning")
    else:
        config = Config(
            "packyard.web.asgi:app_factory", factory=True, proxy_headers=False, log_level="warning"
        )
    config.load()
    lifespan = LifespanOn(config)
    await lifespan.startup()
    paths: list[str] = setup["paths"][scenario]
    head = "".join(f"{name}: {value}\r\n" for name, value in setup["headers"].items())
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{head}\r\n".encode() for p in paths]
    if case == CASES[2]:
        answer = _direct(config.loaded_app, paths, setup["headers"])
    else:
        answer = _through_uvicorn(
            [HttpToolsProtocol(config, ServerState(), lifespan.state) for _ in range(CONNECTIONS)],
            requests,
        )
    for turn in range(100):
        await answer(turn)
    answered, turn = 0, 0
    cpu, started = time.process_time(), time.monotonic()
    while time.monotonic() - started < seconds:
        await answer(turn)
        answered, turn = answered + CONNECTIONS, turn + 1
    cpu = time.process_time() - cpu
    await lifespan.shutdown()
    return cpu / answered * 1e6


def _through_uvicorn(protocols: list[Any], requests: list[bytes]) -> Any:
    for protocol in protocols:
        protocol.connection_made(_Transport())

    async def answer(turn: int) -> None:
        for number, protocol in enumerate(protocols):
            protocol.data_received(requests[(turn + number) % len(requests)])
        while any(p.cycle is not None and not p.cycle.response_complete for p in protocols):
            await asyncio.sleep(0)

    return answer


def _direct(app: Any, paths: list[str], headers: dict[str, str]) -> Any:
    raw = [(b"host", b"127.0.0.1:8000")] + [
        (k.lower().encode(), v.encode()) for k, v in headers.items()
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def answer(turn: int) -> None:
        for number in range(CONNECTIONS):
            path = paths[(turn + number) % len(paths)]
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
                "method": "GET", "root_path": "", "path": path, "raw_path": path.encode(),
                "query_string": b"", "headers": raw, "state": {},
            }  # fmt: skip
            await app(scope, receive, send)

    return answer


def _one(case: str, setup_file: Path, scenario: str, seconds: float) -> float:
    """``case`` measured in a fresh process (its own application, caches and heap)."""
    setup = json.loads(setup_file.read_text())
    env = {
        **os.environ,
        "PACKYARD_DATA_DIR": setup["data_dir"],
        "PACKYARD_ACCESS_LOG": "true",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="uvicorn-split-"),
        "BENCH_CEILING_BODY_BYTES": "833",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, __file__, "--measure", case, "--setup", str(setup_file),
               "--scenario", scenario, "--seconds", str(seconds)]  # fmt: skip
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=True
        )
    finally:
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    return float(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenario", choices=("pages", "files"), default="pages")
    parser.add_argument("--measure", choices=CASES)
    parser.add_argument("--setup", type=Path)
    options = parser.parse_args()
    if options.measure:  # one case, in the process _one started
        import uvloop

        setup = json.loads(options.setup.read_text())
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the access log's lines)
        measured = uvloop.run(_measure(options.measure, setup, options.scenario, options.seconds))
        print(f"{measured:.2f}", file=sys.stderr)
        return
    if WORK.exists():
        shutil.rmtree(WORK)
    setup_file = WORK / "setup.json"
    setup_file.write_text(json.dumps(_prepare(WORK)))
    each: dict[str, list[float]] = {case: [] for case in CASES}
    for round_number in range(options.rounds):
        shift = round_number % len(CASES)
        for case in CASES[shift:] + CASES[:shift]:
            each[case].append(_one(case, setup_file, options.scenario, options.seconds))
    print(
        f"{options.scenario}, CPU µs per request, median of {options.rounds} rounds (each round):"
    )
    for case, values in each.items():
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"- {case}: {statistics.median(values):.1f} ({rounds})")


if __name__ == "__main__":
    main()

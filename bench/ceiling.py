"""The ceiling: what the same HTTP server does when the application does nothing.

A bare ASGI app answers every GET with a constant body the size of Packyard's page, run
exactly as Packyard is (uvicorn, uvloop, httptools, 2 workers, no access log), and read by
the same load generator. No Python application on this machine can answer faster than
this; comparing Packyard with it shows what is left to gain in Packyard, and comparing the
ceiling with a peer shows which ratio targets the machine allows at all.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from bench.load import run_load
from bench.servers import free_port, spawn, stop_process, wait_ready

_BODY = b"x" * int(os.environ.get("BENCH_CEILING_BODY_BYTES", "4096"))
_HEADERS = [
    (b"content-type", b"text/html"),
    (b"content-length", str(len(_BODY)).encode()),
    (b"etag", b'"ceiling"'),
    (b"vary", b"Accept, Authorization"),
    (b"cache-control", b"no-cache"),
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def run_ceiling(
    body_bytes: dict[str, int], headers: dict[str, str], concurrency: int, seconds: float,
    workdir: Path, use_wrk: bool,
) -> dict[str, Any]:  # fmt: skip
    """For each page kind, the bare server's figures with a body of that kind's size."""
    results: dict[str, Any] = {}
    root = Path(__file__).resolve().parent.parent
    for kind, size in body_bytes.items():
        port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "2", "--no-access-log", "--loop", "uvloop",
            "--http", "httptools", "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, "BENCH_CEILING_BODY_BYTES": str(size), "PYTHONPATH": str(root)}
        log = workdir / f"ceiling-{kind}.log"
        process = spawn(command, log, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/", process, log, 30)
            paths = [f"/{kind}/"]
            run_load(base, paths, headers, 1, 1, process.pid, workdir, use_wrk)
            result = run_load(
                base, paths, headers, concurrency, seconds, process.pid, workdir, use_wrk
            )
            results[kind] = asdict(result) | {"rps": result.rps, "body_bytes": size}
        finally:
            stop_process(process)
    return results

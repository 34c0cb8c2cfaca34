"""The ceiling: what the same HTTP server does when the application does nothing.

A bare ASGI app answers every GET with a constant body the size of Packyard's page (or
file), run exactly as Packyard is (2 workers, no access log; on granian, the default, or
on uvicorn with uvloop and httptools: ``packyard serve --server``), and read by the same load
generator. No Python application served that way can answer faster; comparing Packyard
with the ceiling of the same server shows what is left to gain in Packyard, and comparing
the ceiling with a peer shows which ratio targets the machine allows at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from bench.load import run_load
from bench.servers import Target, free_port, spawn, stop_process, wait_ready

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
    if scope["method"] not in ("GET", "HEAD"):
        # An upload's body is read to its end, as any server must before answering.
        more = True
        while more:
            more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


SERVERS = ("granian", "uvicorn")  # packyard serve's default first


def ceiling_name(server: str) -> str:
    """The ceiling's row in the report's tables."""
    return f"do-nothing ASGI app on {server} (ceiling)"


def _command(server: str, port: int, workers: int) -> list[str]:
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-ws", "--log-level",
            "warning", "bench.ceiling:app",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--no-access-log", "--loop", "uvloop",
        "--http", "httptools", "--log-level", "warning",
    ]  # fmt: skip


def start_bare_server(
    workdir: Path, body_bytes: int, workers: int, label: str, server: str = "uvicorn"
) -> tuple[subprocess.Popen[bytes], str]:
    """``app`` on ``server`` with Packyard's settings, answering ``body_bytes`` bytes;
    returns the process (stop it with ``servers.stop_process``) and its base URL once it
    answers."""
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "BENCH_CEILING_BODY_BYTES": str(body_bytes), "PYTHONPATH": str(root)}
    log = workdir / f"bare-server-{server}-{label}.log"
    process = spawn(_command(server, port, workers), log, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/", process, log, 30)
    except BaseException:
        stop_process(process)
        raise
    return process, base


def run_ceiling(
    body_bytes: dict[str, int], headers: dict[str, str], concurrency: int, seconds: float,
    workdir: Path, use_wrk: bool, server: str = "uvicorn",
) -> dict[str, Any]:  # fmt: skip
    """For each kind (page kinds, and "file"), the bare server's figures with a body of
    that kind's size."""
    results: dict[str, Any] = {}
    for kind, size in body_bytes.items():
        process, base = start_bare_server(workdir, size, 2, kind, server)
        try:
            paths = [f"/{kind}/"]
            run_load(base, paths, headers, 1, 1, process.pid, workdir, use_wrk)
            result = run_load(
                base, paths, headers, concurrency, seconds, process.pid, workdir, use_wrk
            )
            results[kind] = asdict(result) | {"rps": result.rps, "body_bytes": size}
        finally:
            stop_process(process)
    return results


def as_server_entry(ceiling: dict[str, Any], server: str) -> dict[str, Any]:
    """A ceiling's figures as a server's entry in the results (``reads`` by page kind,
    ``downloads``), so that it stands in the index-read and download tables."""
    reads = {kind: [row] for kind, row in ceiling.items() if kind in ("root", "project")}
    entry: dict[str, Any] = {"version": "-", "mode": f"raw ASGI on {server}", "reads": reads}
    if "file" in ceiling:
        entry["downloads"] = [ceiling["file"] | {"paths": 1}]
    return entry


def null_target(workdir: Path, workers: int) -> Target:
    """``app`` with an empty body as an upload target: twine against it is what twine itself
    can do, the server costing (almost) nothing (the ceiling for publishing)."""
    process, base = start_bare_server(workdir, 0, workers, "null")
    return Target(
        name="do-nothing ASGI app", version="-", mode="raw ASGI on uvicorn", base_url=base,
        root_path="/", project_prefix="/", pid=process.pid, index_url=base,
        twine_url=f"{base}/", twine_user="u",
        twine_password="p",  # noqa: S106 (the null server checks nothing)
        stop_callback=lambda: stop_process(process),
    )  # fmt: skip

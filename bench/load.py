"""Load generation: wrk (Debian's package) with a Lua script that cycles over many paths,
or, where wrk is missing, ``bench/loadgen.py`` in its own process. Both report requests,
non-2xx answers, socket errors and p50/p99 latency; every run is bounded in time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import procs


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float  # server CPU time (all its processes) per answered request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_LUA = """
local paths = {PATHS}
local counter = 0
local thread_count = 0
setup = function(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
end
init = function(args)
  counter = offset or 0
end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], HEADERS)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _write_script(workdir: Path, paths: list[str], headers: dict[str, str]) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "paths.lua"
    lua_paths = "{" + ",".join(_lua_string(p) for p in paths) + "}"
    lua_headers = (
        "{" + ",".join(f"[{_lua_string(k)}]={_lua_string(v)}" for k, v in headers.items()) + "}"
    )
    script.write_text(_LUA.replace("{PATHS}", lua_paths).replace("HEADERS", lua_headers))
    return script


def run_load(
    base_url: str,
    paths: list[str],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    server_pid: int,
    workdir: Path,
    use_wrk: bool = True,
) -> LoadResult:
    """GET ``paths`` round-robin at ``concurrency`` for ``seconds``; measure the server."""
    cpu_before = procs.cpu_seconds(server_pid)
    wrk = wrk_path() if use_wrk else None
    if wrk is not None:
        script = _write_script(workdir, paths, headers)
        threads = min(2, concurrency)
        command = [
            wrk, "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), base_url,
        ]  # fmt: skip
    else:
        spec = workdir / "loadgen.json"
        workdir.mkdir(parents=True, exist_ok=True)
        spec.write_text(json.dumps({"paths": paths, "headers": headers}))
        command = [
            sys.executable, str(Path(__file__).with_name("loadgen.py")), base_url, str(spec),
            str(concurrency), str(seconds),
        ]  # fmt: skip
    started = time.monotonic()
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    elapsed = time.monotonic() - started
    cpu = procs.cpu_seconds(server_pid) - cpu_before
    line = next((x for x in output.splitlines() if x.startswith("BENCH-RESULT")), None)
    if line is None:
        raise RuntimeError(f"load generator printed no result:\n{output}")
    requests, duration_us, non_2xx, errors, p50_us, p99_us = (int(x) for x in line.split()[1:])
    duration = duration_us / 1e6 if duration_us else elapsed
    return LoadResult(
        concurrency=concurrency,
        requests=requests,
        seconds=duration,
        non_2xx=non_2xx,
        errors=errors,
        p50_ms=p50_us / 1000,
        p99_ms=p99_us / 1000,
        cpu_ms_per_request=cpu * 1000 / requests if requests else float("nan"),
    )

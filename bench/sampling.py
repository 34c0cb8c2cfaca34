"""Where a Packyard server's time goes under a load, sampled with py-spy.

The report shows it beside the targets the run misses: the share of its processes' busy
samples spent in each function (its own time), grouped by who owns the code: the HTTP
server and event loop (uvicorn or granian, asyncio, uvloop), the web framework (Starlette, FastAPI),
Packyard, the database layer, and the rest. Samples of idle threads waiting for work are
left out. When py-spy is missing or may not attach (no ptrace rights), the report says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import procs

SAMPLE_RATE_HZ = 250
_IDLE_FRAMES = ("Condition.wait", "Queue.get", "_recv_bytes", "select (selectors.py", "Event.wait")
_OWNERS = (
    ("packyard/", "Packyard"),
    ("uvicorn/", "HTTP server and event loop"),
    ("granian/", "HTTP server and event loop"),
    ("asyncio/", "HTTP server and event loop"),
    ("uvloop", "HTTP server and event loop"),
    ("starlette/", "web framework"),
    ("fastapi/", "web framework"),
    ("anyio/", "web framework"),
    ("python_multipart/", "web framework"),
    ("multipart/", "web framework"),
    ("sqlalchemy/", "database layer"),
    ("sqlite3/", "database layer"),
)
TOP_FUNCTIONS = 10


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else None


@contextmanager
def sampled(server_pid: int, seconds: float, output: Path) -> Iterator[dict[str, Any]]:
    """py-spy records every process of the server for ``seconds`` while the body runs the
    load (a client on one keep-alive connection keeps one worker busy, which one cannot be
    known in advance); the summary of all their samples fills the yielded dict once the
    block ends."""
    summary: dict[str, Any] = {}
    spy = py_spy()
    if spy is None:
        summary["error"] = "py-spy is not installed"
        yield summary
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    recorders: list[tuple[subprocess.Popen[bytes], Path]] = []
    for pid in procs.descendants(server_pid):
        raw = output.with_name(f"{output.stem}-{pid}.txt")
        command = [
            spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
            "--rate", str(SAMPLE_RATE_HZ), "--format", "raw", "--output", str(raw),
            "--nonblocking",
        ]  # fmt: skip
        try:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as failure:
            summary["error"] = f"py-spy could not start: {failure}"
            break
        recorders.append((process, raw))
    try:
        yield summary
    finally:
        stacks: list[str] = []
        failures: list[str] = []
        for process, raw in recorders:
            _, stderr = process.communicate(timeout=seconds + 60)
            if process.returncode == 0 and raw.exists():
                stacks.append(raw.read_text())
            else:
                failures.append(stderr.decode(errors="replace")[-300:])
        if stacks:
            output.write_text("".join(stacks))
            summary.update(summarize(output.read_text()))
        elif failures and "error" not in summary:
            summary["error"] = f"py-spy failed: {failures[0]}"


def summarize(raw: str) -> dict[str, Any]:
    """Shares of busy samples by owner and by function (own time), from py-spy's raw output
    (one line per distinct stack: ``frame;frame;... count``)."""
    by_owner: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    busy = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        innermost = stack.split(";")[-1]
        if any(idle in innermost for idle in _IDLE_FRAMES):
            continue
        count = int(count_text)
        busy += count
        by_owner[_owner(innermost)] += count
        by_function[innermost] += count
    if not busy:
        return {"error": "no busy samples"}
    return {
        "samples": busy,
        "owners": {owner: n / busy for owner, n in by_owner.most_common()},
        "functions": {name: n / busy for name, n in by_function.most_common(TOP_FUNCTIONS)},
    }


def _owner(frame: str) -> str:
    # A frame reads "function (path/to/module.py:line)".
    location = frame.rpartition("(")[2]
    return next((owner for marker, owner in _OWNERS if marker in location), "other")

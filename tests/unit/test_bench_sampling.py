"""The benchmark's profile summary: busy samples by owner and function, idle threads out."""

from __future__ import annotations

import pytest
from bench.sampling import summarize

STACKS = [
    ("<module> (<string>:1)", "Server.run (uvicorn/server.py:86)",
     "RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:524)", 50),
    ("<module> (<string>:1)", "IndexFastPath.__call__ (packyard/web/simple/fast.py:57)",
     "data_version (packyard/db/engine.py:59)", 30),
    ("Thread._bootstrap (threading.py:1002)",
     "WorkerThread.run (anyio/_backends/_asyncio.py:1113)", "Condition.wait (threading.py:327)",
     900),
    ("<module> (<string>:1)", "Router.__call__ (starlette/routing.py:700)", 15),
    ("<module> (<string>:1)", "do_execute (sqlalchemy/engine/default.py:900)", 5),
]  # fmt: skip
# py-spy's raw format: one line per distinct stack, frames joined by ";", then the count.
RAW = "".join(";".join(map(str, s[:-1])) + f" {s[-1]}\n" for s in STACKS) + "malformed line\n"


def test_shares_are_of_busy_samples_by_owner_and_function() -> None:
    summary = summarize(RAW)
    assert summary["samples"] == 100
    assert summary["owners"] == {
        "HTTP server and event loop": 0.5,
        "Packyard": 0.3,
        "web framework": 0.15,
        "database layer": 0.05,
    }
    top = next(iter(summary["functions"]))
    assert top.startswith("RequestResponseCycle.send")
    assert summary["functions"][top] == pytest.approx(0.5)


def test_only_idle_samples_say_so() -> None:
    idle = "Thread._bootstrap (threading.py:1002);Condition.wait (threading.py:327) 10\n"
    assert summarize(idle) == {"error": "no busy samples"}

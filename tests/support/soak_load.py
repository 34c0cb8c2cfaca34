"""The soak's load generator, run in a process of its own so its CPU and memory are not the
server's: ``python -m tests.support.soak_load CONFIG.json`` prints a JSON summary.

Mixed traffic for ``seconds``: index reads at high concurrency (root and project pages,
HTML and JSON, some conditional), file downloads, and one publisher that publishes a new
version and deletes an old one in a loop. Every answer outside the expected statuses is an
error; latencies are kept per kind to report percentiles. At ``warmup_seconds`` the server's
RSS is sampled (``/proc/PID/status``), and again at the end.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.builders import Dist, wheel_bytes

JSON = "application/vnd.pypi.simple.v1+json"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, seconds: float, ok: bool, detail: str) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok and len(self.errors) < 50:
                self.errors.append(f"{kind}: {detail}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _timed(tally: Tally, kind: str, call: Any, expected: tuple[int, ...]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = call()
    except httpx.HTTPError as error:
        tally.note(kind, time.perf_counter() - started, False, repr(error))
        return None
    ok = response.status_code in expected
    tally.note(
        kind, time.perf_counter() - started, ok, f"{response.status_code} {response.text[:200]}"
    )
    return response


def reader(config: dict[str, Any], tally: Tally, stop: threading.Event, n: int) -> None:
    simple = config["simple_url"]
    with httpx.Client(auth=("x", config["token"]), timeout=30) as client:
        etag = None
        i = n
        while not stop.is_set():
            i += 1
            if i % 4 == 0:
                _timed(tally, "index-root", lambda: client.get(simple), (200,))
            elif i % 4 == 1:
                _timed(
                    tally,
                    "project-json",
                    lambda: client.get(f"{simple}stable/", headers={"Accept": JSON}),
                    (200,),
                )
            elif i % 4 == 2:
                response = _timed(
                    tally, "project-html", lambda: client.get(f"{simple}stable/"), (200,)
                )
                if response is not None:
                    etag = response.headers.get("etag")
            else:
                headers = {"If-None-Match": etag} if etag else {}
                _timed(
                    tally,
                    "project-304",
                    lambda h=headers: client.get(f"{simple}stable/", headers=h),
                    (200, 304),
                )


def downloader(config: dict[str, Any], tally: Tally, stop: threading.Event) -> None:
    url = config["files_url"] + config["stable_file"]
    with httpx.Client(auth=("x", config["token"]), timeout=30) as client:
        while not stop.is_set():
            response = _timed(tally, "download", lambda: client.get(url), (200,))
            if response is not None and len(response.content) != config["stable_size"]:
                tally.note("download", 0, False, "short body")


def publisher(config: dict[str, Any], tally: Tally, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {config['token']}"}
    published: list[str] = []
    with httpx.Client(headers=headers, timeout=60) as client:
        version = 0
        while not stop.is_set():
            version += 1
            dist = Dist("churn", f"1.{version}")
            response = _timed(
                tally,
                "publish",
                lambda d=dist: client.post(
                    config["publish_url"], files={"file": (d.wheel_filename, wheel_bytes(d))}
                ),
                (200,),
            )
            if response is not None and response.status_code == 200:
                published.append(response.json()["url"])
            if len(published) > 3:
                url = published.pop(0)
                _timed(tally, "delete", lambda u=url: client.delete(u), (200,))
            time.sleep(0.05)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=reader, args=(config, tally, stop, n))
        for n in range(config["readers"])
    ]
    threads += [
        threading.Thread(target=downloader, args=(config, tally, stop))
        for _ in range(config["downloaders"])
    ]
    threads.append(threading.Thread(target=publisher, args=(config, tally, stop)))
    for thread in threads:
        thread.start()
    time.sleep(config["warmup_seconds"])
    rss_warm = rss_kib(config["server_pid"])
    time.sleep(max(config["seconds"] - config["warmup_seconds"], 0))
    stop.set()
    for thread in threads:
        thread.join()
    rss_end = rss_kib(config["server_pid"])
    everything = [v for values in tally.latencies.values() for v in values]
    summary = {
        "requests": len(everything),
        "errors": tally.errors,
        "rss_warm_kib": rss_warm,
        "rss_end_kib": rss_end,
        "p50_ms": round(percentile(everything, 0.50) * 1000, 1),
        "p99_ms": round(percentile(everything, 0.99) * 1000, 1),
        "by_kind": {
            kind: {
                "count": len(values),
                "p50_ms": round(percentile(values, 0.50) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            }
            for kind, values in sorted(tally.latencies.items())
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1])

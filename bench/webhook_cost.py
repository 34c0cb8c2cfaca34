"""What a webhook costs a publish: ``python3 bench/webhook_cost.py [--concurrency 8]``.

Issue 16 asks that publishing with a webhook configured is not measurably slower: the
delivery row is written in the publish transaction and sent after the answer. This runs
``packyard serve --workers 2`` (SQLite, local blobs) and, in each round, publishes a version
of every project (a wheel and an sdist, new bytes each time) through REST at the given
concurrency into two fresh registries, one without hooks and one whose hook
(``package.created``) posts to a receiver on loopback; the two take turns first (an even
number of rounds gives each kind the first turn equally often). It reports files/s and the
median and 95th percentile of a publish's latency for each, the median over rounds, and
checks the receiver got one delivery per hooked file. A hooked round's deliveries are
awaited before the next round starts (the sender makes way for requests, so they go out
when the burst ends: how long that took is reported), so they are not sent during, and
counted against, the round after it. Then, on the idle server, it publishes a few files one
at a time and reports how long each delivery came after the publish's answer.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import build_corpus  # noqa: E402
from bench.procs import cpu_seconds  # noqa: E402
from bench.servers import Packyard  # noqa: E402

ORGANIZATION = "bench-hooks"
IDLE_PUBLISHES = 5
SETTLE_SECONDS = 1.0
# A rest between rounds of one to one and a half seconds, drawn afresh each time: rounds
# that came at a fixed period could fall in step with something periodic on the machine
# (the file system's journal commits every few seconds) and favour one kind every time.
SETTLE_JITTER_SECONDS = 0.5


class Receiver:
    """Counts the POSTs it answers (204) and notes when each came (monotonic seconds)."""

    def __init__(self) -> None:
        self.count = 0
        self.arrivals: list[float] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    receiver.count += 1
                    receiver.arrivals.append(time.monotonic())
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def publish_all(url: str, token: str, files: list[Path], concurrency: int) -> dict[str, float]:
    """Publish ``files`` with ``concurrency`` clients; files/s and latency percentiles."""
    latencies: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def one(path: Path) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(
                headers={"Authorization": f"Bearer {token}"}, timeout=120
            )
        started = time.monotonic()
        with path.open("rb") as handle:
            answer = client.post(url, files={"file": (path.name, handle)})
        elapsed = time.monotonic() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{path.name}: {answer.status_code} {answer.text[:200]}")
        with lock:
            latencies.append(elapsed)

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, files))
    wall = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "files_per_second": len(files) / wall,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p95_ms": 1000 * ordered[int(len(ordered) * 0.95) - 1],
    }


def rest(database: Path, jitter: random.Random) -> None:
    """Start the next round from rest: the server's SQLite WAL checkpointed and emptied
    (SQLite checkpoints a WAL past 1,000 pages inside whichever commit crosses that line; a
    round writes a few hundred, so without this the checkpoints fell on the same kind of
    round run after run, and which kind depended on how much each wrote), then a pause."""
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    time.sleep(SETTLE_SECONDS + jitter.uniform(0, SETTLE_JITTER_SECONDS))


def wait_for(receiver: Receiver, count: int, *, timeout: float) -> float:
    """Wait until ``receiver`` has ``count`` deliveries; the seconds that took (at most
    ``timeout``: a shortfall shows in the report's deliveries received)."""
    started = time.monotonic()
    while receiver.count < count and time.monotonic() - started < timeout:
        time.sleep(0.01)
    return time.monotonic() - started


def idle_latencies(
    base: str, auth: dict[str, str], token: str, receiver: Receiver, files: list[Path]
) -> list[float]:
    """Publish ``files`` one at a time into a fresh hooked registry, each after the last
    one's delivery came; the milliseconds from each answer to its delivery."""
    slug = httpx.post(base, headers=auth, json={"name": "idle latency"}).json()["slug"]
    hook = {"url": receiver.url, "events": ["package.created"]}
    httpx.post(f"{base}/{slug}/webhooks", headers=auth, json=hook).raise_for_status()
    latencies = []
    for path in files:
        time.sleep(0.5)  # idle: nothing else in flight
        before = receiver.count
        publish_all(f"{base}/{slug}/packages", token, [path], 1)
        answered = time.monotonic()
        deadline = answered + 30
        while receiver.count == before and time.monotonic() < deadline:
            time.sleep(0.002)
        if receiver.count == before:
            raise RuntimeError(f"{path.name}: no delivery within 30 s")
        latencies.append(1000 * (receiver.arrivals[before] - answered))
    return latencies


def measure(workdir: Path, *, concurrency: int = 8, rounds: int = 8, projects: int = 60
            ) -> dict[str, Any]:  # fmt: skip
    """Publish the corpus with and without a hook, round after round; returns the medians
    (files/s, p50 and p95 ms) of each and the deliveries received (bench/run.py reports
    it; ``main`` prints it)."""
    # Each round of each kind publishes its own version of every project: files whose
    # bytes were stored before publish faster (the blob is there), which would favour
    # whichever kind came second.
    corpus = build_corpus(workdir / "corpus", projects, 2 * rounds + 1, 0)
    by_version: dict[str, list[Path]] = {}
    for path in corpus.files:
        if not path.name.startswith("bench_app"):
            by_version.setdefault(path.name.split("-")[1].removesuffix(".tar.gz"), []).append(path)
    versions = iter(sorted(by_version, key=lambda v: int(v.split(".")[1])))
    receiver = Receiver()
    env = {"PACKYARD_WEBHOOK_ALLOW_PRIVATE": "true"}
    packyard = Packyard(workdir / f"run-{int(time.time())}", extra_env=env)
    packyard.server.cli("org", "create", ORGANIZATION)
    token = packyard.server.cli(
        "token", "create", ORGANIZATION, "--scope", "write_registries",
        "--scope", "read_packages", "--scope", "write_packages",
    ).stdout.strip()  # fmt: skip
    packyard.server.start()
    base = f"{packyard.server.base_url}/v2/packages/organizations/{ORGANIZATION}/registries"
    auth = {"Authorization": f"Bearer {token}"}
    assert packyard.server.process is not None
    server_pid = packyard.server.process.pid
    database = packyard.server.data_dir / "packyard.sqlite3"
    jitter = random.Random(20)
    results: dict[str, list[dict[str, float]]] = {"without hook": [], "with hook": []}
    expected = 0
    drain_seconds: list[float] = []
    delivery_cpu_ms: list[float] = []
    during_rounds = 0
    try:
        for round_number in range(rounds):
            order = ["without hook", "with hook"]
            if round_number % 2:
                order.reverse()
            for kind in order:
                name = f"{kind} {round_number}"
                slug = httpx.post(base, headers=auth, json={"name": name}).json()["slug"]
                if kind == "with hook":
                    hook = {"url": receiver.url, "events": ["package.created"]}
                    made = httpx.post(f"{base}/{slug}/webhooks", headers=auth, json=hook)
                    made.raise_for_status()
                url = f"{base}/{slug}/packages"
                files = by_version[next(versions)]
                cpu_before = cpu_seconds(server_pid)
                outcome = publish_all(url, token, files, concurrency)
                # The server's CPU over the round's publishes: what a hook adds to them, in
                # work (steadier than files/s, which the disk's flushes sway).
                cpu_after = cpu_seconds(server_pid)
                outcome["server_cpu_ms_per_file"] = 1000 * (cpu_after - cpu_before) / len(files)
                results[kind].append(outcome)
                if kind == "with hook":
                    # Sent before the round's last answer: each took a worker from it.
                    during_rounds += receiver.count - expected
                    # The next round starts once this one's deliveries came, so they do not
                    # fall on it: how long after the round they took is reported instead,
                    # and the server's CPU meanwhile (sending and recording them).
                    expected += len(files)
                    drain_seconds.append(wait_for(receiver, expected, timeout=60))
                    delivery_cpu_ms.append(
                        1000 * (cpu_seconds(server_pid) - cpu_after) / len(files)
                    )
                # Every round starts from rest: what a round leaves behind (the sender
                # recording its attempts, a WAL checkpoint) falls on neither kind.
                rest(database, jitter)
        delivered = receiver.count
        idle_ms = idle_latencies(
            base, auth, token, receiver, by_version[next(versions)][:IDLE_PUBLISHES]
        )
    finally:
        packyard.server.stop()
    report: dict[str, Any] = {
        "concurrency": concurrency,
        "files_per_round": len(next(iter(by_version.values()))),
        "rounds": rounds,
        "deliveries_received": delivered,
        "deliveries_expected": expected,
        "deliveries_during_rounds": during_rounds,
        # From the end of a hooked round to its last delivery (the sender makes way for
        # requests, so a burst's deliveries go out when it ends): median and max over rounds.
        "deliveries_done_after_round_s": {
            "median": round(statistics.median(drain_seconds), 2),
            "max": round(max(drain_seconds), 2),
        },
        # The server's CPU from the end of a hooked round to its last delivery, per delivery.
        "delivery_cpu_ms": round(statistics.median(delivery_cpu_ms), 2),
        # From a publish's answer to its delivery, one publish at a time on the idle server.
        "idle_delivery_ms": {
            "median": round(statistics.median(idle_ms), 1),
            "max": round(max(idle_ms), 1),
        },
    }
    # Each round number's two kinds ran one right after the other: their ratio is spared the
    # drift of the machine's other load over the run.
    report["each_round_ratio"] = [
        round(hooked["files_per_second"] / plain["files_per_second"], 2)
        for hooked, plain in zip(results["with hook"], results["without hook"], strict=True)
    ]
    for kind, measured in results.items():
        report[kind] = {
            key: round(statistics.median(r[key] for r in measured), 1) for key in measured[0]
        }
        # One round to the next varies by about a fifth on this machine: each is shown.
        report[kind]["each_round_files_per_second"] = [
            round(r["files_per_second"], 1) for r in measured
        ]
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=8, choices=range(1, 17))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--projects", type=int, default=60, help="files: 2 per project")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "webhooks")
    args = parser.parse_args(argv)
    report = measure(
        args.workdir, concurrency=args.concurrency, rounds=args.rounds, projects=args.projects
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

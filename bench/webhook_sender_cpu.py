"""The webhook sender's own CPU per delivery: ``python3 bench/webhook_sender_cpu.py``.

``bench/webhook_cost.py`` asks whether publishing with a hook is slower; on a shared
two-core machine its rounds differ by more than the sender costs, so this measures the
cost itself. It builds the services on a fresh embedded database (SQLite), subscribes a
hook to a receiver on loopback and enqueues deliveries, then runs the sender
(``WebhookSender.run_due``, as the background job does) and reads the CPU time of the
thread that ran it (``time.thread_time``: the CPU it used, whatever else the machine
runs). Two shapes: a burst (every delivery due at once, sent in batches) and singles (one
delivery per run, as on an idle server after each publish). ``--profile FILE`` writes a
cProfile of the burst. The receiver keeps connections open (HTTP/1.1), as most do; with
``--close`` it closes each after its answer.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from packyard.bootstrap import Services, build_services  # noqa: E402
from packyard.core.permissions import OPERATOR  # noqa: E402
from packyard.core.registries import RegistryFields  # noqa: E402
from packyard.core.webhooks import WebhookEvent  # noqa: E402
from packyard.db import webhooks as queries  # noqa: E402
from packyard.settings import Settings  # noqa: E402

APART_SECONDS = 0.05
BODY = json.dumps({"event": "package.created", "package": {"name": "x" * 40}, "pad": "y" * 600})


def serve(keep_alive: bool, port: Any, got: Any) -> None:
    """A loopback receiver answering 204, counting in ``got``; runs in its own process,
    so that its CPU is not the measured process's."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with got.get_lock():
                got.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


def receiver(keep_alive: bool) -> tuple[multiprocessing.Process, str, Any]:
    port, got = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=serve, args=(keep_alive, port, got), daemon=True)
    process.start()
    while not port.value:
        time.sleep(0.01)
    return process, f"http://127.0.0.1:{port.value}/hook", got


def enqueue(services: Services, hook_id: str, count: int) -> None:
    sessions = services.registries._sessions  # the bench reaches in: no use case enqueues alone
    with sessions.begin() as session:
        now = services.webhook_sender._now()
        for _ in range(count):
            queries.enqueue(session, hook_id, WebhookEvent.PACKAGE_CREATED, BODY, now)


def cpu_of(run: Callable[[], int]) -> tuple[float, int]:
    started = time.thread_time()
    sent = run()
    return time.thread_time() - started, sent


def measure(
    workdir: Path, deliveries: int, keep_alive: bool, profile: Path | None
) -> dict[str, Any]:
    process, url, got = receiver(keep_alive)
    services = build_services(Settings(data_dir=workdir, webhook_allow_private=True))
    try:
        services.registries.create_organization("cpu")
        registry = services.registries.create(
            OPERATOR, "cpu", RegistryFields(given=frozenset({"name"}), name="Sender")
        )
        hook = services.webhooks.create(OPERATOR, "cpu", registry.slug, url, ["package.created"])
        sender = services.webhook_sender
        # Warm up: the client, its connection, the first queries.
        enqueue(services, hook.webhook.id, 5)
        sender.run_due()
        enqueue(services, hook.webhook.id, deliveries)
        profiler = cProfile.Profile(time.thread_time) if profile else None
        if profiler:
            profiler.enable()
        burst_cpu, burst_sent = cpu_of(sender.run_due)
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(profile))
        singles: list[float] = []
        # One at a time, apart (as after each publish on an idle server, or each poll).
        for _ in range(min(deliveries, 100)):
            enqueue(services, hook.webhook.id, 1)
            time.sleep(APART_SECONDS)
            cpu, _sent = cpu_of(sender.run_due)
            singles.append(cpu)
        idle = []
        for _ in range(50):
            time.sleep(APART_SECONDS)
            idle.append(cpu_of(sender.run_due)[0])
    finally:
        services.close()
        process.terminate()
    return {
        "receiver": "keep-alive" if keep_alive else "closes each connection",
        "burst_deliveries": burst_sent,
        "burst_cpu_ms_per_delivery": round(1000 * burst_cpu / max(burst_sent, 1), 3),
        "single_cpu_ms_median": round(1000 * statistics.median(singles), 3),
        "empty_poll_cpu_ms_median": round(1000 * statistics.median(idle), 3),
        "received": got.value,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--close", action="store_true", help="the receiver closes connections")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="packyard-sender-cpu-") as workdir:
        report = measure(Path(workdir), args.deliveries, not args.close, args.profile)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

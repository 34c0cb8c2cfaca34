"""``/metrics``: the Prometheus text format, for all of the server's workers at once.

Under ``packyard serve`` every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` and whichever worker a scrape reaches adds up all the files,
so the figures are the server's, not one worker's. Without that directory (the app run
some other way) this process's own values are exported. The data directory's free space
is measured at scrape time. Rendering runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import hmac
import shutil
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from packyard.web.observability.health import send_json


class DataDirCollector(Collector):
    """Free and total bytes of the file system holding the data directory (the embedded
    database, local blobs and uploads in flight), read when scraped."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def collect(self) -> Iterable[Metric]:
        usage = shutil.disk_usage(self._data_dir)
        yield GaugeMetricFamily(
            "packyard_data_dir_free_bytes",
            "Bytes free on the file system of the data directory",
            value=usage.free,
        )
        yield GaugeMetricFamily(
            "packyard_data_dir_size_bytes",
            "Size in bytes of the file system of the data directory",
            value=usage.total,
        )


class MetricsEndpoint:
    def __init__(self, data_dir: Path, multiprocess_dir: Path | None, token: str | None) -> None:
        self._token = token.encode() if token else None
        self._registries: list[CollectorRegistry] = []
        if multiprocess_dir is not None:
            workers = CollectorRegistry(auto_describe=False)
            # prometheus-client leaves this constructor unannotated.
            MultiProcessCollector(workers, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
            self._registries.append(workers)
        else:
            self._registries.append(REGISTRY)
        disk = CollectorRegistry(auto_describe=False)
        disk.register(DataDirCollector(data_dir))
        self._registries.append(disk)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await send_json(send, 405, {"detail": "Use GET to read the metrics"})
            return
        if self._token is not None and not self._authorized(scope):
            detail = {"detail": "The metrics need Authorization: Bearer <metrics token>"}
            await send_json(send, 401, detail, ((b"www-authenticate", b"Bearer"),))
            return
        body = await run_in_threadpool(self.render)
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def render(self) -> bytes:
        return b"".join(generate_latest(registry) for registry in self._registries)

    def _authorized(self, scope: Scope) -> bool:
        assert self._token is not None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    given.strip(), self._token
                )
        return False

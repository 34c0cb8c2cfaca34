"""A small HTTP/1.1 keep-alive load generator, used where wrk is not installed.

``python loadgen.py BASE_URL SPEC.json CONCURRENCY SECONDS``: SPEC holds ``paths`` and
``headers``. Prints one line in the format of the harness's wrk script. It is slower than
wrk (one Python process), which is fine for the smoke mode it serves.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def _client(
    host: str,
    port: int,
    requests: list[bytes],
    deadline: float,
    offset: int,
    stats: dict[str, list[float]],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = offset
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            index += 1
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            stats["latency"].append(time.perf_counter() - started)
            if not 200 <= status < 300:
                stats["non_2xx"].append(1)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        stats["errors"].append(1)
    finally:
        writer.close()


async def main(base_url: str, spec_path: str, concurrency: int, seconds: float) -> None:
    spec = json.loads(open(spec_path).read())  # noqa: SIM115
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    requests = [
        f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for p in spec["paths"]
    ]
    stats: dict[str, list[float]] = {"latency": [], "non_2xx": [], "errors": []}
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, requests, deadline, i * 7919, stats) for i in range(concurrency))
    )
    duration = time.monotonic() - started
    latency = sorted(stats["latency"]) or [0.0]

    def percentile(q: float) -> int:
        return int(latency[min(len(latency) - 1, int(q * len(latency)))] * 1e6)

    print(
        f"BENCH-RESULT {len(stats['latency'])} {int(duration * 1e6)} {len(stats['non_2xx'])} "
        f"{len(stats['errors'])} {percentile(0.5)} {percentile(0.99)}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))

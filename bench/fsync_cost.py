"""What a durable write costs on this machine's disk, where the benchmark keeps its data.

Packyard answers a publish only once the file, its metadata, their folders and the
database commit are on disk; pypiserver and devpi answer without flushing. This measures
fsync of a small file and of a folder one after another, and a wheel with its metadata
stored as Packyard stores them now (``LocalBlobStore.put_all``: files flushed together,
renamed, folders flushed together) and one blob after the other, as it stored them
before, so the report can say what durability costs a file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import time
from pathlib import Path

from packyard.blobs.local import LocalBlobStore
from packyard.core.durability import flush_to_disk

ROUNDS = 40
WHEEL_BYTES = 8 * 1024


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(workdir: Path, rounds: int = ROUNDS) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    files, folders, pairs, one_by_one = [], [], [], []
    store = LocalBlobStore(workdir / "blobs")
    for number in range(rounds):
        path = workdir / f"file-{number}"
        path.write_bytes(os.urandom(WHEEL_BYTES))
        started = time.perf_counter()
        flush_to_disk(path)
        files.append(time.perf_counter() - started)
        started = time.perf_counter()
        flush_to_disk(workdir)
        folders.append(time.perf_counter() - started)
        wheel, metadata = os.urandom(WHEEL_BYTES), os.urandom(600)
        staged = workdir / f"staged-{number}"
        staged.write_bytes(wheel)
        started = time.perf_counter()
        store.put_all(
            {hashlib.sha256(wheel).hexdigest(): staged},
            {hashlib.sha256(metadata).hexdigest(): metadata},
        )
        pairs.append(time.perf_counter() - started)
        wheel, metadata = os.urandom(WHEEL_BYTES), os.urandom(600)
        staged.write_bytes(wheel)
        started = time.perf_counter()
        store.put_bytes(hashlib.sha256(metadata).hexdigest(), metadata)
        store.put_file(hashlib.sha256(wheel).hexdigest(), staged)
        one_by_one.append(time.perf_counter() - started)
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "file_ms": _median_ms(files),
        "folder_ms": _median_ms(folders),
        "pair_together_ms": _median_ms(pairs),
        "pair_one_by_one_ms": _median_ms(one_by_one),
        "rounds": rounds,
    }

"""How ``packyard serve`` and ``packyard quickstart`` start the server.

The process that stays up for the server's lifetime is the HTTP server's supervisor
(granian's by default, uvicorn's with ``--server uvicorn``): it binds the socket, starts
the workers (each builds the application for itself) and restarts any that dies. It
never imports the application: what has to happen before the workers start (the schema
migration or check, quickstart's demo data) runs in a short-lived forked child, so that
SQLAlchemy, pydantic, the services and the database's caches leave with that child
instead of staying resident in the supervisor (about 45 MiB of a lean 27).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import click


def export_data_dir(data_dir: Path | None) -> None:
    """Worker processes read their settings from the environment."""
    if data_dir is not None:
        os.environ["PACKYARD_DATA_DIR"] = str(data_dir)


def in_child_process(work: Callable[[], None]) -> None:
    """Run ``work`` in a forked child and wait for it; if it fails, exit as it did.

    The child shows its own errors (a ClickException as click would, anything else as a
    traceback). Where there is no fork, ``work`` runs in this process.
    """
    if not hasattr(os, "fork"):
        work()
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os._exit(_exit_code_of(work))
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code != 0:
        sys.exit(code if code > 0 else 1)


def _exit_code_of(work: Callable[[], None]) -> int:
    try:
        work()
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except SystemExit as error:
        return error.code if isinstance(error.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def prepare_database() -> None:
    """Migrate the embedded database, or check that a configured one is current, so that
    workers never migrate concurrently, and check the settings a worker would refuse
    (``packyard.preflight``); raises ClickException when the schema is not current."""
    from packyard.preflight import SchemaNotReady, prepare
    from packyard.settings import Settings

    try:
        prepare(Settings())
    except (SchemaNotReady, PermissionError) as error:
        # PermissionError: a data or blob folder this process may not write to (the blob
        # store's own message says what to do when it is one it must convert).
        raise click.ClickException(str(error)) from None


# glibc gives each thread that allocates its own malloc arena, up to eight per core, and
# each keeps freed memory of its own: with a worker's thread pool of 40 that is sixteen
# arenas. Two hold the same data with less left over (6 MiB less across two workers after
# the 100,000-project runs). Read by glibc when a worker process starts; an administrator's
# own setting wins.
MALLOC_ARENAS = "2"

# granian's own allocator (jemalloc, built into granian; uvicorn's workers never load it)
# keeps the memory a burst freed until that worker allocates again: after 64 clients read the
# 100,000-project root page, a granian worker still held 121-124 MiB of heap three seconds
# later, against 89 MiB before the burst. A background thread of its own now gives dirty pages
# back after 100 ms: 86-87 MiB one second after the burst, and root and project pages as fast
# as without it (medians of 3 alternated runs, one worker on bench/scale.py's data: 476
# against 383 root pages a second, 25,400 against 19,400 project pages). Read by jemalloc when
# a worker starts; an administrator's own setting wins.
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0"

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
APPLICATION = "packyard.web.asgi:app_factory"


# The HTTP servers ``packyard serve --server`` can run the workers on: granian (Rust,
# hyper) by default, about 1.6x uvicorn's reads per second here with the same application
# (docs/benchmarks.md, issue 20); uvicorn (uvloop, httptools) as the alternative.
SERVERS = ("granian", "uvicorn")
DEFAULT_SERVER = "granian"


def check_server_installed(server: str) -> None:
    """Raise ClickException when ``server`` is not installed, before anything starts."""
    import importlib.util

    if importlib.util.find_spec(server) is None:
        raise click.ClickException(
            f"{server} is not installed: install it with `pip install {server}`"
        )


def run_server(
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    log_format: str = "text",
    tls: tuple[Path, Path] | None = None,
    server: str = DEFAULT_SERVER,
) -> None:
    """Serve until stopped. The workers read what this process decides from the
    environment: the access log (written by the application, not by the HTTP server, on
    either server) and the log format, and where each writes its metric values
    (web.observability)."""
    os.environ.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENAS)
    os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
    os.environ["PACKYARD_ACCESS_LOG"] = "true" if access_log else "false"
    os.environ["PACKYARD_LOG_FORMAT"] = log_format
    os.environ["PACKYARD_SUPERVISOR_PID"] = str(os.getpid())  # web/supervisor_bond.py
    run = _run_uvicorn if server == "uvicorn" else _run_granian
    with metrics_directory(), main_module_left_out_of_workers():
        run(host, port, workers, log_format, tls)


def _run_uvicorn(
    host: str, port: int, workers: int, log_format: str, tls: tuple[Path, Path] | None
) -> None:
    import uvicorn  # imported here: administrative commands should start fast

    from packyard.web.observability.logs import logging_config

    uvicorn.run(
        APPLICATION,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=logging_config(log_format),
        proxy_headers=False,
        log_level="info",
        # HTTPS (a certificate and its key): what uv demands for trusted publishing.
        ssl_certfile=None if tls is None else str(tls[0]),
        ssl_keyfile=None if tls is None else str(tls[1]),
    )


def _run_granian(
    host: str, port: int, workers: int, log_format: str, tls: tuple[Path, Path] | None
) -> None:
    """granian's supervisor starts the workers; each builds the application. Settings
    chosen to behave as uvicorn does here: its own access log off (the application writes
    ours), no proxy headers (``PACKYARD_TRUSTED_PROXIES`` does that in the application),
    a worker that dies is started again, a stop waits for requests in flight."""
    import multiprocessing

    from granian.constants import Interfaces, Loops, SSLProtocols
    from granian.log import LogLevels
    from granian.server import Server

    from packyard.web.observability.logs import logging_config

    # Workers spawned, as uvicorn's: a forked worker inherits the supervisor's SIGTERM
    # handler, which does nothing in it, so a stop while a worker was still starting (a
    # respawn) waited for it for ever and left it running.
    multiprocessing.set_start_method("spawn", force=True)
    Server(
        APPLICATION,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with lifespan: the scheduler starts and stops in it
        workers=workers,
        loop=Loops.auto,  # uvloop when installed, as uvicorn's
        websockets=False,
        log_level=LogLevels.info,
        log_dictconfig=logging_config(log_format, server="granian"),
        log_access=False,
        respawn_failed_workers=True,
        ssl_cert=None if tls is None else tls[0],
        ssl_key=None if tls is None else tls[1],
        ssl_protocol_min=SSLProtocols.tls12,  # uvicorn's floor too (granian's own: 1.3)
    ).serve()


@contextlib.contextmanager
def main_module_left_out_of_workers() -> Iterator[None]:
    """Keep multiprocessing from running this command's main module in each worker it
    spawns (both servers spawn theirs). It would: ``python -m packyard.cli.main`` or the
    ``packyard`` script is re-run in every new process, so each worker first loaded the
    whole command line (click and every command: 0.12-0.2 s of a worker's start here),
    which it never uses: a worker imports the application by name (APPLICATION). Hidden for
    as long as workers may be spawned (a worker that dies is started again); put back
    afterwards."""
    main = sys.modules["__main__"]
    spec, path = main.__spec__, getattr(main, "__file__", None)
    main.__spec__ = None
    if path is not None:
        del main.__file__
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path


@contextlib.contextmanager
def metrics_directory() -> Iterator[None]:
    """Give the workers an empty ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
    multi-process mode): the administrator's, emptied, or a new temporary one, removed
    when the server stops. Set only now, after the schema check's child has exited, so
    that no process but a worker leaves values there."""
    given = os.environ.get(METRICS_DIR_VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
        return
    directory = Path(tempfile.mkdtemp(prefix="packyard-metrics-"))
    os.environ[METRICS_DIR_VARIABLE] = str(directory)
    try:
        yield
    finally:
        del os.environ[METRICS_DIR_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)

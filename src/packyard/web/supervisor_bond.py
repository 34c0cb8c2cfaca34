"""A worker stops when its HTTP server's supervisor is gone (Linux).

``packyard serve`` tells its workers the supervisor's process id (``PACKYARD_SUPERVISOR_PID``,
read through Settings). A supervisor killed outright (SIGKILL, the OOM killer) cannot stop
its workers, and a worker left behind keeps the port and serves on its own: its webhook
sender then delivers beside the restarted server's. So each worker asks the kernel for a
SIGTERM when its parent goes (``prctl(PR_SET_PDEATHSIG)``): the same stop as the
supervisor's own, requests in flight finish. The kernel ties that signal to the *thread*
that forked the worker; uvicorn's and granian's supervisors start and restart workers from
their main thread, which lives as long as they do.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def stop_with_supervisor(supervisor_pid: int | None) -> None:
    """Have this worker sent SIGTERM when its supervisor exits; send it now if the
    supervisor already has. Does nothing in the supervisor itself (one uvicorn worker runs
    there), outside ``packyard serve`` or off Linux."""
    if supervisor_pid is None or supervisor_pid == os.getpid():
        return
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        return
    # The supervisor may have died between this worker's start and the prctl: it is then
    # no longer this process's parent, and no signal would come.
    if os.getppid() != supervisor_pid:
        os.kill(os.getpid(), signal.SIGTERM)

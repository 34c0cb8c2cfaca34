"""A worker stops when its HTTP server's supervisor is gone (Linux).

``packyard serve`` tells its workers the supervisor's process id (``PACKYARD_SUPERVISOR_PID``,
read through Settings). A supervisor killed outright (SIGKILL, the OOM killer) cannot stop
its workers, and a worker left behind keeps the port and serves on its own: its webhook
sender then delivers beside the restarted server's. So each worker asks the kernel to kill
it when its parent goes (``prctl(PR_SET_PDEATHSIG)``). The kernel ties that signal to the
*thread* that forked the worker; uvicorn's and granian's supervisors start and restart
workers from their main thread, which lives as long as they do.

The signal is SIGKILL, not the supervisor's own graceful SIGTERM: a granian worker sent
SIGTERM this way could hang in granian's signal handler holding the GIL, and went on
holding the port (2 of 22 supervisor kills under load, granian 2.8.9). The supervisor's
death is already an abrupt stop, and a killed worker loses no more than one killed by the
OOM killer would: a publish in flight is all or nothing, and the access log's last second.
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
    """Have this worker killed when its supervisor exits; kill it now if the
    supervisor already has. Does nothing in the supervisor itself (one uvicorn worker runs
    there), outside ``packyard serve`` or off Linux."""
    if supervisor_pid is None or supervisor_pid == os.getpid():
        return
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        return
    # The supervisor may have died between this worker's start and the prctl: it is then
    # no longer this process's parent, and no signal would come.
    if os.getppid() != supervisor_pid:
        os.kill(os.getpid(), signal.SIGKILL)

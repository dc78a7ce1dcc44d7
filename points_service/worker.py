"""The app as `points-service serve --workers N` builds it in each worker: one that ends with its supervisor.

A worker outlived a supervisor killed by `kill -9`: it kept the port and its database connections and
served on, so the next start could not bind the port, and on the embedded default the next start
stops the PostgreSQL those workers used, leaving them answering 503 for good.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from litestar import Litestar

from points_service.app import create_app


def create_worker_app() -> Litestar:
    end_with(os.getppid())
    return create_app()


# How long an orphaned worker's graceful shutdown may take before the worker ends at once. Seen once
# in a suite run: a worker's lifespan shutdown still waiting minutes after its supervisor's kill -9,
# holding the port and its connections (the read pool's close, since fixed in database/reads.py); with
# nobody left to stop it, whatever else might wait, it must stop itself.
ORPHAN_SHUTDOWN_SECONDS = 20.0


def end_with(supervisor: int) -> None:
    """SIGTERM to this process once `supervisor` is gone (it was killed, not stopped); if the graceful
    shutdown has not ended the process ORPHAN_SHUTDOWN_SECONDS later, it exits at once."""

    def watch() -> None:
        # An orphan is adopted by another process: its parent changes.
        while os.getppid() == supervisor:
            time.sleep(1)
        # As the supervisor's own SIGTERM would: the server finishes the requests in flight, then exits.
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(ORPHAN_SHUTDOWN_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()

"""The retention rule's daily run: DEVTONE_RETENTION_DAYS erases the visitor data of
conversations closed more than that many days ago (domain/erasure.py). Unset, devtone
keeps everything for ever and never starts this.

It runs inside every devtone server, like the mail sender (server.py for `make run`,
gunicorn.conf.py for each worker), so a deployment starts nothing else. Every process
looks every CHECK_EVERY seconds; the one that takes the lease runs the rule, and the lease
lasts a day: nobody runs it again (not even that process) until the day is over. A
process that dies mid-run loses nothing: what it left is erased by the next run, which
the same rule finds again.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from devtone.domain import erasure, leases
from devtone.file_store import files_of

log = logging.getLogger(__name__)

LEASE = "retention"
#: One run a day across the deployment.
RUN_EVERY_SECONDS = 24 * 3600.0
#: How often each process asks whether the day's run is due.
CHECK_EVERY = 600.0


class RetentionJob:
    """Runs the retention rule for one app, once a day across every process."""

    def __init__(self, app: Flask, days: int):
        self.app = app
        self.days = days
        self._stop = threading.Event()

    def round(self) -> list[int] | None:
        """Run the rule if the day's run is due (the lease taken); the conversations
        erased, or None when another run had it."""
        # A holder of its own each time: the lease is taken only once it has expired, so
        # not even this process runs twice within a day.
        holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        with self.app.app_context():
            if not leases.hold(LEASE, holder, RUN_EVERY_SECONDS):
                return None
            erased: list[int] = []
            while batch := erasure.erase_expired(self.days, files_of(self.app)):
                erased += batch
                if self._stop.is_set() or len(batch) < erasure.RETENTION_BATCH:
                    break
            if erased:
                log.info("retention: %d conversation(s) erased", len(erased))
            return erased

    def run(self) -> None:
        """Check every CHECK_EVERY seconds until `stop()`; a failed run is logged and tried
        again at the next day's run."""
        while not self._stop.is_set():
            try:
                self.round()
            except SQLAlchemyError as error:
                log.warning("retention: the database failed (%s)", type(error).__name__)
            except Exception:
                log.exception("retention: a run failed")
            self._stop.wait(CHECK_EVERY)

    def stop(self) -> None:
        """End `run` after its current check."""
        self._stop.set()


def start(app: Flask) -> RetentionJob | None:
    """Run the app's retention rule in the background (a greenlet under gevent); None
    when DEVTONE_RETENTION_DAYS is unset."""
    days = app.config.get("RETENTION_DAYS")
    if not days:
        return None
    job = RetentionJob(app, days)
    threading.Thread(target=job.run, name="devtone-retention", daemon=True).start()
    return job

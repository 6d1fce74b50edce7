"""How devtone waits on its database: never for ever.

A hung PostgreSQL (stopped, a stalled disk, a network path that drops packets without a
reset) accepts bytes and answers nothing. Its own `statement_timeout` cannot fire while it
does not run, and libpq's `connect_timeout` is not applied to the asynchronous
connections gevent needs. So under gevent (wsgi.py) psycopg2 waits through
`wait_cooperatively`: psycogreen's wait callback, with a limit on each wait for the
server read from the connection's own settings (`connect_timeout`, or the statement
timeout plus ANSWER_GRACE, whichever is longer), and a circuit breaker per server. Past
the limit the wait raises OperationalError, psycopg2 closes the connection, SQLAlchemy
drops it from the pool, and the request answers 503 (web/errors.py). For a moment after
that, waits on that server fail at once instead of each waiting out the limit (requests
queued for the pool then answer 503 within the pool timeout, not a limit later); one
wait at a time probes whether the server is back.

`/readyz` asks through `ReadinessCheck`, on a connection of its own, within a bound of
its own: neither an exhausted pool nor a hung server can hold it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import psycopg2
from flask import Flask
from psycogreen.gevent import gevent_wait_callback
from psycopg2 import extensions
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from devtone import metrics
from devtone.realtime.breaker import Breaker

log = logging.getLogger(__name__)

READINESS_KEY = "devtone.readiness"

#: How long /readyz waits for the database. A new connection and SELECT 1 take
#: milliseconds; with Redis's ping (DEVTONE_REDIS_TIMEOUT) the answer comes well
#: within 2 s, whatever either does, even on a busy host.
READY_TIMEOUT = 1.0

#: How long past its statement timeout the client still waits for the server's answer
#: (a cancelled statement's error takes a round trip to arrive).
ANSWER_GRACE = 1.0

#: After a wait ran out, waits fail at once for this long (doubling while the server
#: stays silent, up to the cap); then one wait probes.
BREAKER_PAUSE = 0.5
BREAKER_PAUSE_CAP = 2.0

_STATEMENT_TIMEOUT = re.compile(r"statement_timeout\s*=\s*(\d+)")


class _Server:
    """What the wait callback keeps per dsn (a process has one or two): the longest wait,
    and whether the server failed one a moment ago."""

    __slots__ = ("limit", "breaker")

    def __init__(self, dsn: str):
        self.limit = wait_limit(dsn)
        self.breaker = Breaker(1, BREAKER_PAUSE, BREAKER_PAUSE_CAP, on_open=_suspended)


_servers: dict[str, _Server] = {}


def install_cooperative_waits() -> None:
    """Make psycopg2 wait through gevent, with limits (call after monkey-patching)."""
    extensions.set_wait_callback(wait_cooperatively)


def wait_cooperatively(connection: Any, timeout: float | None = None) -> None:
    """psycopg2's wait callback: park this greenlet until the server answers (psycogreen);
    raise OperationalError when it does not within the connection's limit, or at once
    while the server is known to be silent (see the module)."""
    dsn = connection.dsn
    server = _servers.get(dsn) or _servers.setdefault(dsn, _Server(dsn))
    if not server.breaker.allows():
        if connection.poll() == extensions.POLL_OK:
            return  # answered already: nothing to wait for
        metrics.DATABASE_WAITS_ABANDONED.labels("breaker_open").inc()
        raise psycopg2.OperationalError("the database server is not answering (failing fast)")
    limit = server.limit if timeout is None else timeout
    try:
        gevent_wait_callback(connection, timeout=limit)
    except TimeoutError:
        server.breaker.failed()
        metrics.DATABASE_WAITS_ABANDONED.labels("timeout").inc()
        # A psycopg2 error, so SQLAlchemy sees a lost connection (psycopg2 has closed it)
        # and drops it from the pool.
        raise psycopg2.OperationalError(
            f"the database server did not answer within {limit:g} s"
        ) from None
    server.breaker.succeeded()


def _suspended(pause: float) -> None:
    log.warning("the database server did not answer: failing its waits at once for %.1f s", pause)


def wait_limit(dsn: str) -> float | None:
    """The longest devtone waits for one answer on a connection made with `dsn`: its
    connect_timeout or its statement timeout plus ANSWER_GRACE, whichever is longer."""
    parameters = extensions.parse_dsn(dsn)
    limits = []
    if int(parameters.get("connect_timeout") or 0) > 0:
        limits.append(float(parameters["connect_timeout"]))
    statement = _STATEMENT_TIMEOUT.search(parameters.get("options") or "")
    if statement and int(statement.group(1)) > 0:
        limits.append(int(statement.group(1)) / 1000 + ANSWER_GRACE)
    return max(limits) if limits else None


class ReadinessCheck:
    """`SELECT 1` on a connection of its own, answered within `timeout` seconds.

    Not through the pool: a pool exhausted by requests stuck on a hung server would make
    the check wait its pool timeout. The check runs in a thread (a greenlet under gevent)
    and is waited for at most `timeout`; one still running when the next is asked counts
    as "not ready" without opening another connection, so a hung server never collects
    more than one stray check per process, and that one ends at its connection's limit
    (see `wait_cooperatively`) with nothing pooled.
    """

    def __init__(self, url: str, connect_args: dict[str, Any], timeout: float):
        self.timeout = timeout
        # create_engine does no I/O; NullPool: each check opens and closes its connection.
        self._engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def __call__(self) -> bool:
        """Whether the database answered within the timeout."""
        with self._lock:
            if self._running is not None and self._running.is_alive():
                return False
            answered = threading.Event()
            self._running = threading.Thread(
                target=self._ask, args=(answered,), name="devtone-readiness", daemon=True
            )
            self._running.start()
        return answered.wait(self.timeout)

    def _ask(self, answered: threading.Event) -> None:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # whatever the failure, the answer is "not ready"
            return
        answered.set()

    def close(self) -> None:
        """Release the engine (nothing is pooled; this only forgets the dialect)."""
        self._engine.dispose()


def init_app(app: Flask) -> None:
    """Give `app` its readiness check (no I/O: the check connects when asked)."""
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    app.extensions[READINESS_KEY] = ReadinessCheck(
        app.config["SQLALCHEMY_DATABASE_URI"], options.get("connect_args", {}), READY_TIMEOUT
    )


def readiness_of(app: Flask) -> ReadinessCheck:
    """`app`'s readiness check."""
    return app.extensions[READINESS_KEY]

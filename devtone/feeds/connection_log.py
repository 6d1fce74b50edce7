"""Connection logs: one JSON line when a stream or long-poll wait opens and when it closes.

Lines go to the "devtone.connections" logger, one JSON object each, to stderr by default
(gunicorn's error log). They name who was connected by kind only (visitor, or agent and
their id): never a token. The latest events are also kept in memory for the admin
monitor, per process. The open-stream gauges and close counters move here too, so a
stream needs one call to open and one to close.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from devtone import metrics
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.errors import DevtoneError

logger = logging.getLogger("devtone.connections")

#: How many recent events the monitor shows (per process).
RECENT = 50

# Why a connection ended.
CLIENT_GONE = "client_gone"  # the client went away (GeneratorExit)
SERVER_SHUTDOWN = "server_shutdown"  # the broker ended it: the process is stopping
AGENT_DEACTIVATED = "agent_deactivated"
ANSWERED = "answered"  # a long-poll answered with news
TIMEOUT = "timeout"  # a long-poll answered empty after its wait
ERROR = "error"
REFUSED = "refused"  # the caller may not read it (a domain error)
ENDED = "ended"  # the stream finished for another reason

#: What a browser's tier report may say (POST /api/realtime/report): a fixed vocabulary,
#: so the metrics' labels stay few. REPORT_REASONS is the table of static/js/realtime/
#: reasons.js, which the negotiator's every move carries (a test holds them equal).
TIERS = ("sse", "longpoll", "poll")
KINDS = ("conversation", "dashboard")
REPORT_REASONS = (
    "timeout",  # no hello, or a request that never answered
    "silent",  # the watchdog: a live stream stopped delivering
    "closed",  # the stream ended for good (a 502, a wrong content type)
    "failed",  # a network or HTTP error
    "rate_limited",  # 429: too many streams
    "upgrade",  # a higher tier proved itself again
    "reconnect",  # back from offline, on another tier than before
    "other",
)

_recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
_recent_lock = threading.Lock()
_ids = itertools.count(1)


def who(caller: object) -> dict[str, Any]:
    """The caller as a log line names it: `{"caller": "visitor"}` or agent and id."""
    if isinstance(caller, AgentIdentity):
        return {"caller": "agent", "agent_id": caller.id}
    if isinstance(caller, TokenIdentity):
        return {"caller": "token", "token_id": caller.id}
    # A visitor is known by a token only, which must never be written anywhere.
    return {"caller": "visitor" if caller is not None else "anonymous"}


class Connection:
    """One open SSE stream or long-poll wait: logged and counted from open to close.

    Used as a context manager around the stream's body: an exception out of it gives the
    reason (GeneratorExit: the client went away), leaving it logs the close.
    """

    __slots__ = ("fields", "opened", "delivered", "reason", "closed", "_gauge")

    def __init__(self, kind: str, tier: str, caller: object, conversation_id: int | None = None):
        self.fields: dict[str, Any] = {
            "connection": f"{os.getpid()}-{next(_ids)}",
            "kind": kind,
            "tier": tier,
            "conversation_id": conversation_id,
            **who(caller),
        }
        self.opened = time.monotonic()
        self.delivered = 0
        self.reason: str | None = None
        self.closed = False
        self._gauge = metrics.OPEN_STREAMS.labels(kind, tier)
        self._gauge.inc()
        record("open", self.fields)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, traceback: object) -> None:
        if error is not None:
            self.failed(error)
        self.close()

    def failed(self, error: BaseException) -> None:
        """The reason an exception gives: GeneratorExit means the client went away."""
        if self.reason is None:
            if isinstance(error, GeneratorExit):
                self.reason = CLIENT_GONE
            else:
                self.reason = REFUSED if isinstance(error, DevtoneError) else ERROR

    def close(self) -> None:
        """Log the close with its duration, entries delivered and reason; idempotent."""
        if self.closed:
            return
        self.closed = True
        self._gauge.dec()
        reason = self.reason or ENDED
        metrics.CONNECTIONS_CLOSED.labels(self.fields["kind"], self.fields["tier"], reason).inc()
        duration_ms = round((time.monotonic() - self.opened) * 1000)
        record(
            "close",
            {
                **self.fields,
                "duration_ms": duration_ms,
                "delivered": self.delivered,
                "reason": reason,
            },
        )


def tier_change(source: str, target: str, reason: str, caller: object, kind: str | None) -> None:
    """A browser's report that it moved from tier `source` to `target`: logged and counted."""
    metrics.TIER_CHANGES.labels(source, target, reason).inc()
    record(
        "tier_change", {"kind": kind, "from": source, "to": target, "reason": reason, **who(caller)}
    )


def record(event: str, fields: dict[str, Any]) -> None:
    """Write one connection event as a JSON line and keep it for the monitor."""
    line = {"time": _now(), "event": event, **fields}
    with _recent_lock:
        _recent.append(line)
    if logger.isEnabledFor(logging.INFO):
        logger.info(json.dumps(line, separators=(",", ":")))


def recent() -> list[dict[str, Any]]:
    """This process's latest connection events, newest first."""
    with _recent_lock:
        return list(reversed(_recent))


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (as logging's last resort does), so a
    redirected or captured stderr gets the lines too."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr


def init_app(app: Flask) -> None:
    """Send connection lines to stderr, one JSON object per line (once per process)."""
    if any(isinstance(handler, _Stderr) for handler in logger.handlers):
        return
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Not through the root logger too: `make run`'s format would wrap each JSON line in
    # a second, non-JSON one.
    logger.propagate = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

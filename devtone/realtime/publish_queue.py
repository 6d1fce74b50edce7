"""What the Redis brokers share: the publisher's queue, reconnect delays, throttled warnings.

A post never waits on Redis: it appends to a bounded queue and wakes one sender thread (a
greenlet under gevent's monkey-patching), which sends what is queued in order, a batch at
a time, through the function its broker gives it. This module imports nothing of devtone.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

RECONNECT_FIRST = 0.1  # seconds before the first reconnect attempt, then doubling...
RECONNECT_CAP = 5.0  # ...up to this
PUBLISH_QUEUE = 4096  # envelopes waiting for the sender; past this they are dropped
PUBLISH_BATCH = 256  # envelopes handed to the sender at once (one round trip per node)

Envelope = TypeVar("Envelope")


def reconnect_delay(attempt: int, cap: float = RECONNECT_CAP) -> float:
    """Seconds to wait before reconnect `attempt` (0, 1, …): 0.1 s doubling to `cap`, jittered."""
    ceiling = min(cap, RECONNECT_FIRST * 2 ** min(attempt, 16))
    # Jitter only downwards, so the cap holds, and so that processes which lost Redis
    # together do not all come back at the same instant.
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - spreading load, not security


class Throttle:
    """Lets one warning through per `interval` seconds and counts the ones it holds back."""

    def __init__(self, interval: float, log: logging.Logger = logger):
        self.interval = interval
        self._log = log
        self._lock = threading.Lock()
        self._next = 0.0
        self._held = 0

    def warning(self, message: str, *args: object) -> None:
        """Log `message` at warning level unless one went out less than `interval` ago."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return
            held, self._held = self._held, 0
            self._next = now + self.interval
        if held:
            message, args = message + " (and %d more since the last warning)", (*args, held)
        self._log.warning(message, *args)


class PublishQueue(Generic[Envelope]):
    """A bounded queue of envelopes and the one thread that sends them, in order."""

    def __init__(
        self, send: Callable[[list[Envelope]], None], name: str, limit: int = PUBLISH_QUEUE
    ):
        self._send = send
        self._name = name
        self._limit = limit
        # deque appends and pops are atomic, and a post only appends and wakes the sender.
        self._queue: deque[Envelope] = deque()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._sending = False  # a batch is out of the queue and not yet sent or dropped
        self._sender: threading.Thread | None = None
        self._stop = False

    def put(self, envelope: Envelope) -> bool:
        """Queue `envelope` for the sender; False (and not queued) when the queue is full."""
        if len(self._queue) >= self._limit:
            return False
        self._queue.append(envelope)
        if self._sender is None:
            self._start()
        self._ready.set()
        return True

    def flush(self, timeout: float) -> bool:
        """Wait until what was queued so far has been sent or dropped; False if some is
        still queued after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._queue or self._sending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float) -> None:
        """Send what is queued (for up to `timeout` seconds), then stop the sender."""
        with self._lock:
            self._stop = True
            sender = self._sender
        self._ready.set()
        if sender is not None and sender is not threading.current_thread():
            sender.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._sender is not None or self._stop:
                return
            # Lazily, on the first publish: the app factory starts nothing. A greenlet
            # under gevent's monkey-patching, a daemon thread otherwise (tests).
            self._sender = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._sender.start()

    def _run(self) -> None:
        queue = self._queue
        while True:
            self._ready.wait()
            # Cleared before draining, so an append while we drain wakes the next wait.
            self._ready.clear()
            while queue:
                self._sending = True  # before the pop, so flush() never sees neither
                batch = [queue.popleft() for _ in range(min(len(queue), PUBLISH_BATCH))]
                try:
                    self._send(batch)
                except Exception:  # a bug must not end publishing for the process
                    logger.exception("Redis publisher failed; carrying on")
                finally:
                    self._sending = False
            if self._stop:
                return


class Outages:
    """When a broker stopped hearing Redis and for how long, told to whoever watches.

    A watcher is called `(event, fields)`: "broker_outage" when hearing stops, and
    "broker_back" with `duration_ms` when it is whole again (the connection log and the
    metrics watch; this module knows neither).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._watchers: list[Callable[[str, dict[str, object]], None]] = []
        self._since: float | None = None

    def watch(self, watcher: Callable[[str, dict[str, object]], None]) -> None:
        """Tell `watcher` of every outage from now on."""
        with self._lock:
            self._watchers.append(watcher)

    @property
    def ongoing(self) -> bool:
        """Whether an outage has started and not ended."""
        return self._since is not None

    def started(self, **fields: object) -> None:
        """Hearing stopped (once per outage: later calls until `ended` are the same one)."""
        with self._lock:
            if self._since is not None:
                return
            self._since = self._clock()
            watchers = list(self._watchers)
        self._tell(watchers, "broker_outage", fields)

    def ended(self, **fields: object) -> None:
        """Hearing is whole again; tells the outage's length, if one was going on."""
        with self._lock:
            if self._since is None:
                return
            duration_ms = round((self._clock() - self._since) * 1000)
            self._since = None
            watchers = list(self._watchers)
        self._tell(watchers, "broker_back", {**fields, "duration_ms": duration_ms})

    @staticmethod
    def _tell(watchers: list[Callable[[str, dict[str, object]], None]], event: str,
              fields: dict[str, object]) -> None:  # fmt: skip
        for watcher in watchers:
            try:
                watcher(event, fields)
            except Exception:  # a watcher's bug must not stop the broker's repair
                logger.exception("an outage watcher failed")

"""RedisBroker: the broker for several processes and hosts sharing one Redis.

Each process holds ONE pub/sub connection, subscribed to one Redis channel that carries
every envelope `{"channel": ..., "item": ...}` as JSON; one listener thread (a greenlet
under gevent's monkey-patching) fans them out to this process's subscribers, each with
its own bounded queue. When the listener's connection comes back, every local subscriber
is told it may have missed something.

Publishing never waits on Redis: `publish` queues the envelope (bounded) and returns, and
one publisher thread sends what is queued, in order, a pipeline at a time. Redis down or
hung costs a post nothing: the publisher gives up after a short timeout, and after a few
failures a circuit breaker drops envelopes at once for a while instead of piling them
up. Publishing is at most once anyway: the database is the truth, and readers repair
from it at their heartbeat. This module imports nothing of devtone but the realtime
layer, so it can be tested alone.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.retry import Retry

from devtone.realtime.breaker import Breaker
from devtone.realtime.broker import FanOut, Subscription

logger = logging.getLogger(__name__)

RECONNECT_FIRST = 0.1  # seconds before the first reconnect attempt, then doubling...
RECONNECT_CAP = 5.0  # ...up to this
CONNECT_TIMEOUT = 1.0  # the listener's connect and SUBSCRIBE
COMMAND_TIMEOUT = 0.25  # each publish or ping: Redis answers in well under a millisecond
PUBLISH_CONNECTIONS = 4  # the publisher's one, and a few for /readyz's pings
PUBLISH_QUEUE = 4096  # envelopes waiting for the publisher; past this they are dropped
PUBLISH_BATCH = 256  # envelopes sent in one pipeline (one round trip)
BREAKER_THRESHOLD = 3  # publish failures in a row that open the breaker...
BREAKER_PAUSE = 1.0  # ...for this long at first, doubling while Redis stays away...
BREAKER_PAUSE_CAP = 5.0  # ...up to this (a probe costs nothing: it runs in the publisher)
POLL_INTERVAL = 0.25  # how often the listener looks up from its socket, so close() is prompt
PING_AFTER = 5.0  # a quiet pub/sub connection is pinged after this long...
PONG_TIMEOUT = 5.0  # ...and counted dead if nothing comes back in this long
WARN_EVERY = 30.0  # at most one warning per kind of failure in this many seconds
JOIN_TIMEOUT = 3.0  # close() waits this long for the listener to stop


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before reconnect `attempt` (0, 1, …): 0.1 s doubling to 5 s, jittered."""
    ceiling = min(RECONNECT_CAP, RECONNECT_FIRST * 2 ** min(attempt, 16))
    # Jitter only downwards, so the cap holds, and so that processes which lost Redis
    # together do not all come back at the same instant.
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - spreading load, not security


class _Throttle:
    """Lets one warning through per `interval` seconds and counts the ones it holds back."""

    def __init__(self, interval: float):
        self.interval = interval
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
        logger.warning(message, *args)


class RedisBroker:
    """Pub/sub across processes through one Redis channel and one connection per process."""

    def __init__(
        self,
        url: str,
        queue_size: int = 256,
        channel: str = "devtone:events",
        on_reconnect: Callable[[], None] | None = None,
        timeout: float = COMMAND_TIMEOUT,
        on_dropped: Callable[[str, int], None] | None = None,
        on_breaker_open: Callable[[], None] | None = None,
    ):
        self.url = url
        # Observers, e.g. metrics counters (this module knows none): the listener came
        # back; envelopes dropped, by why (queue_full, breaker_open, failed); breaker open.
        self.on_reconnect = on_reconnect
        self.on_dropped = on_dropped
        self.on_breaker_open = on_breaker_open
        self.queue_size = queue_size
        self.channel = channel
        self.connected = False  # the listener is subscribed on Redis right now
        self.publish_failures = 0
        self.dropped = 0
        self.reconnects = 0
        # No I/O here (the app factory builds the broker): pools connect on first use.
        # No client-side retries either: a retried PUBLISH could arrive twice, and the
        # listener must see every drop, because a silent resubscribe would hide a gap
        # from the readers.
        no_retry = Retry(NoBackoff(), 0)
        self._publish_pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=PUBLISH_CONNECTIONS,
            timeout=timeout,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=no_retry,
        )
        self._listen_pool = redis.ConnectionPool.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=CONNECT_TIMEOUT,
            retry=no_retry,
        )
        self._publisher = redis.Redis(connection_pool=self._publish_pool)
        self._lock = threading.Lock()  # the listener's state and the counters
        self._fan_out = FanOut()
        self._listener: threading.Thread | None = None
        self._first_attempt_done = threading.Event()
        self._has_connected = False
        self._stop = threading.Event()
        self._closed = False
        # The publisher's queue: deque appends and pops are atomic, and a post only
        # appends and wakes the publisher, so it never waits on Redis.
        self._outbox: deque[str] = deque()
        self._outbox_ready = threading.Event()
        self._sending = False  # a batch is out of the queue and not yet sent or dropped
        self._sender: threading.Thread | None = None
        self.breaker = Breaker(
            BREAKER_THRESHOLD, BREAKER_PAUSE, BREAKER_PAUSE_CAP, on_open=self._breaker_opened
        )
        self._publish_warnings = _Throttle(WARN_EVERY)
        self._breaker_warnings = _Throttle(WARN_EVERY)
        self._listen_warnings = _Throttle(WARN_EVERY)

    # -- the Broker interface ------------------------------------------------------------

    def publish(self, channel: str, item: dict[str, Any]) -> None:
        """Queue `item` for `channel`'s subscribers in every process and return at once;
        never raises for Redis (down, hung, or a full queue: readers repair)."""
        # An item that is not JSON does raise: that is a bug, not an outage.
        envelope = json.dumps({"channel": channel, "item": item}, separators=(",", ":"))
        if self._closed:
            return
        if self.breaker.is_open:
            # Redis failed a moment ago: queueing would only make the backlog older.
            self._dropped("breaker_open", 1)
            return
        if len(self._outbox) >= PUBLISH_QUEUE:
            self._dropped("queue_full", 1)
            return
        self._outbox.append(envelope)
        if self._sender is None:
            self._start_sender()
        self._outbox_ready.set()

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A bounded subscription to `channels`; the first one starts the listener."""
        if self._closed:
            raise RuntimeError("this RedisBroker is closed")
        self._start_listener()
        # A reader reads its backlog right after subscribing, so wait (briefly) for the
        # listener's first SUBSCRIBE: a publish in between would otherwise be lost to
        # it. If Redis does not answer in time, the subscription is registered while
        # disconnected and is marked missed once the listener connects.
        self._first_attempt_done.wait(3 * CONNECT_TIMEOUT)
        subscription = Subscription(self, channels, self.queue_size)
        self._fan_out.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget `subscription`."""
        self._fan_out.remove(subscription)

    def subscriber_count(self) -> int:
        """How many subscriptions are open in this process."""
        return len(self._fan_out.subscriptions())

    def observe(self, observer: Callable[[str, dict[str, Any]], None]) -> None:
        """Show `observer(channel, item)` every item this process hears from Redis (every
        process hears every envelope); starts the listener like a first subscription, and
        waits as briefly for its first SUBSCRIBE: a publish right after would otherwise
        be lost to the observer (the typing board's first announcement)."""
        if self._closed:
            raise RuntimeError("this RedisBroker is closed")
        self._fan_out.observe(observer)
        self._start_listener()
        self._first_attempt_done.wait(3 * CONNECT_TIMEOUT)

    def end_all(self) -> None:
        """End every subscription so its stream finishes (graceful shutdown); forget them."""
        for subscription in self._fan_out.take_all():
            subscription.end()

    def losses(self) -> int | None:
        """Listener reconnects plus publishes dropped here; None while the listener is not
        subscribed (what other processes publish is then lost to this one)."""
        if not self.connected or self._closed:
            return None
        return self.reconnects + self.dropped

    def close(self) -> None:
        """Send what is queued (briefly), stop the listener, close the connections, tell
        subscribers they missed; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            listener = self._listener
            sender = self._sender
        self._stop.set()
        self._outbox_ready.set()
        for thread in (sender, listener):
            if thread is not None and thread is not threading.current_thread():
                thread.join(JOIN_TIMEOUT)
        self._publish_pool.disconnect()
        self._listen_pool.disconnect()
        self.connected = False
        for subscription in self._fan_out.take_all():
            subscription.mark_missed()

    # -- operations --------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until what was published so far has left this process (sent to Redis or
        dropped); False if some is still queued after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._outbox or self._sending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def ping(self) -> bool:
        """Whether Redis answers within the command timeout (for /readyz). An answer also
        closes the publish breaker: Redis is back, so publishing resumes at once."""
        if self._closed:
            return False
        try:
            answered = bool(self._publisher.ping())
        except (redis.RedisError, OSError):
            return False
        if answered:
            self.breaker.succeeded()
        return answered

    # -- the publisher -------------------------------------------------------------------

    def _start_sender(self) -> None:
        with self._lock:
            if self._sender is not None or self._closed:
                return
            # Lazily, on the first publish: the app factory starts nothing. A greenlet
            # under gevent's monkey-patching, a daemon thread otherwise (tests).
            self._sender = threading.Thread(
                target=self._send_queued, name="devtone-redis-publisher", daemon=True
            )
        self._sender.start()

    def _send_queued(self) -> None:
        # One sender, first in first out: one process's envelopes reach Redis in the
        # order they were published (readers order by seq anyway, and repair gaps).
        outbox = self._outbox
        while True:
            self._outbox_ready.wait()
            # Cleared before draining, so an append while we drain wakes the next wait.
            self._outbox_ready.clear()
            while outbox:
                self._sending = True  # before the pop, so flush() never sees neither
                batch = [outbox.popleft() for _ in range(min(len(outbox), PUBLISH_BATCH))]
                try:
                    self._send(batch)
                except Exception:  # a bug must not end publishing for the process
                    logger.exception("Redis publisher failed; carrying on")
                finally:
                    self._sending = False
            if self._stop.is_set():
                return

    def _send(self, batch: list[str]) -> None:
        if not self.breaker.allows():
            self._dropped("breaker_open", len(batch))
            return
        try:
            if len(batch) == 1:
                self._publisher.publish(self.channel, batch[0])
            else:
                pipeline = self._publisher.pipeline(transaction=False)
                for envelope in batch:
                    pipeline.publish(self.channel, envelope)
                pipeline.execute()
        except (redis.RedisError, OSError) as error:
            with self._lock:
                self.publish_failures += 1
            self.breaker.failed()
            self._dropped("failed", len(batch))
            self._publish_warnings.warning(
                "Redis publish failed, readers will repair: %s: %s", type(error).__name__, error
            )
        else:
            self.breaker.succeeded()

    def _dropped(self, reason: str, count: int) -> None:
        with self._lock:
            self.dropped += count
        if self.on_dropped is not None:
            self.on_dropped(reason, count)

    def _breaker_opened(self, pause: float) -> None:
        self._breaker_warnings.warning(
            "Redis is not answering publishes: skipping them for %.1f s (readers repair)", pause
        )
        if self.on_breaker_open is not None:
            self.on_breaker_open()

    # -- the listener --------------------------------------------------------------------

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            # Under gevent's monkey-patching this thread is a greenlet; unpatched (tests)
            # it is a real thread. Daemon, so it never holds up interpreter exit.
            self._listener = threading.Thread(
                target=self._listen, name="devtone-redis-listener", daemon=True
            )
        self._listener.start()

    def _listen(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            pubsub: PubSub | None = None
            try:
                pubsub = self._open_pubsub()
                self._on_connected()
                attempt = 0
                self._pump(pubsub)
            except Exception as error:  # a bug must not end delivery: log, reconnect
                self._listen_warnings.warning(
                    "Redis pub/sub unavailable, reconnecting: %s: %s", type(error).__name__, error
                )
            finally:
                self.connected = False
                self._first_attempt_done.set()
                if pubsub is not None:
                    _close_quietly(pubsub)
            if self._stop.wait(reconnect_delay(attempt)):
                return
            attempt += 1

    def _open_pubsub(self) -> PubSub:
        pubsub = redis.Redis(connection_pool=self._listen_pool).pubsub()
        try:
            pubsub.subscribe(self.channel)
            # Connected only once Redis confirms: before that a publish could be missed.
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while (remaining := deadline - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=remaining)
                if message is not None and message["type"] == "subscribe":
                    return pubsub
            raise redis.TimeoutError("Redis did not confirm SUBSCRIBE in time")
        except BaseException:
            _close_quietly(pubsub)
            raise

    def _on_connected(self) -> None:
        with self._lock:
            # Snapshot before waking subscribe() below: those it lets through register
            # after the snapshot and are not told they missed anything (and one that
            # slips in anyway only costs a spare catch-up read).
            self.connected = True
            subscribers = self._fan_out.subscriptions()
            reconnect, self._has_connected = self._has_connected, True
            if reconnect:
                self.reconnects += 1
        self._first_attempt_done.set()
        if reconnect:
            logger.info("Redis pub/sub reconnected; %d subscribers will catch up", len(subscribers))
            if self.on_reconnect is not None:
                self.on_reconnect()
        # Whatever was published while this process was not subscribed is lost to them.
        for subscription in subscribers:
            subscription.mark_missed()

    def _pump(self, pubsub: PubSub) -> None:
        last_heard = time.monotonic()
        pinged_at: float | None = None
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=POLL_INTERVAL)
            now = time.monotonic()
            if message is not None:
                last_heard, pinged_at = now, None
                if message["type"] == "message":
                    self._dispatch(message["data"])
            elif pinged_at is not None and now - pinged_at > PONG_TIMEOUT:
                # A half-open TCP connection looks quiet forever; only a reply proves it.
                raise redis.ConnectionError("Redis did not answer PING")
            elif pinged_at is None and now - last_heard > PING_AFTER:
                pubsub.ping()
                pinged_at = now

    def _dispatch(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
        except ValueError as error:
            envelope = error
        if not isinstance(envelope, dict) or not isinstance(envelope.get("channel"), str):
            # Another version or another program on our Redis channel: not ours to crash on.
            self._listen_warnings.warning("Dropped a malformed envelope: %.200r", data)
            return
        self._fan_out.deliver(envelope["channel"], envelope.get("item"))


def _close_quietly(pubsub: PubSub) -> None:
    try:
        pubsub.close()
    except (redis.RedisError, OSError):
        pass  # the connection is being thrown away; nothing to tell anyone

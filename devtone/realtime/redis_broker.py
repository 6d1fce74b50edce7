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
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.retry import Retry

from devtone.realtime.breaker import Breaker
from devtone.realtime.broker import FanOut, Subscription
from devtone.realtime.publish_queue import (
    PUBLISH_BATCH,
    PUBLISH_QUEUE,
    Outages,
    PublishQueue,
    Throttle,
    reconnect_delay,
)

# The queue's limits and the reconnect delay live with the queue; named here too, as
# this broker's own.
__all__ = ["PUBLISH_BATCH", "PUBLISH_QUEUE", "RedisBroker", "reconnect_delay"]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 1.0  # the listener's connect and SUBSCRIBE
COMMAND_TIMEOUT = 0.25  # each publish or ping: Redis answers in well under a millisecond
PUBLISH_CONNECTIONS = 4  # the publisher's one, and a few for /readyz's pings
BREAKER_THRESHOLD = 3  # publish failures in a row that open the breaker...
BREAKER_PAUSE = 1.0  # ...for this long at first, doubling while Redis stays away...
BREAKER_PAUSE_CAP = 5.0  # ...up to this (a probe costs nothing: it runs in the publisher)
POLL_INTERVAL = 0.25  # how often the listener looks up from its socket, so close() is prompt
PING_AFTER = 5.0  # a quiet pub/sub connection is pinged after this long...
PONG_TIMEOUT = 5.0  # ...and counted dead if nothing comes back in this long
WARN_EVERY = 30.0  # at most one warning per kind of failure in this many seconds
JOIN_TIMEOUT = 3.0  # close() waits this long for the listener to stop


class RedisBroker:
    """Pub/sub across processes through one Redis channel and one connection per process."""

    hears_everything = True

    def __init__(
        self,
        url: str,
        queue_size: int = 256,
        channel: str = "devtone:events",
        on_reconnect: Callable[[], None] | None = None,
        timeout: float = COMMAND_TIMEOUT,
        on_dropped: Callable[[str, int], None] | None = None,
        on_breaker_open: Callable[[], None] | None = None,
        on_received: Callable[[str], None] | None = None,
    ):
        self.url = url
        # Observers, e.g. metrics counters (this module knows none): the listener came
        # back; envelopes dropped, by why (queue_full, breaker_open, failed); breaker open.
        self.on_reconnect = on_reconnect
        self.on_dropped = on_dropped
        self.on_breaker_open = on_breaker_open
        self.on_received = on_received  # told "item" for each envelope heard
        self.outages = Outages()
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
        self._outbox: PublishQueue[str] = PublishQueue(self._send, "devtone-redis-publisher")
        self.breaker = Breaker(
            BREAKER_THRESHOLD, BREAKER_PAUSE, BREAKER_PAUSE_CAP, on_open=self._breaker_opened
        )
        self._publish_warnings = Throttle(WARN_EVERY, logger)
        self._breaker_warnings = Throttle(WARN_EVERY, logger)
        self._listen_warnings = Throttle(WARN_EVERY, logger)

    # -- the Broker interface ------------------------------------------------------------

    def publish(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Queue `item` for `channel`'s subscribers in every process and return at once;
        never raises for Redis (down, hung, or a full queue: readers repair). With a
        `head`, HEADS subscribers get the item too: every process hears every envelope
        anyway, so a flag costs less than sending the head apart."""
        # An item that is not JSON does raise: that is a bug, not an outage.
        fields = {"channel": channel, "item": item}
        if head is not None:
            fields["head"] = 1
        envelope = json.dumps(fields, separators=(",", ":"))
        if self._closed:
            return
        if self.breaker.is_open:
            # Redis failed a moment ago: queueing would only make the backlog older.
            self._dropped("breaker_open", 1)
            return
        if not self._outbox.put(envelope):
            self._dropped("queue_full", 1)

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

    def watch_outages(self, watcher: Callable[[str, dict[str, object]], None]) -> None:
        """Tell `watcher` when the listener loses Redis and when it is subscribed again."""
        self.outages.watch(watcher)

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
        self._stop.set()
        self._outbox.close(JOIN_TIMEOUT)
        if listener is not None and listener is not threading.current_thread():
            listener.join(JOIN_TIMEOUT)
        self._publish_pool.disconnect()
        self._listen_pool.disconnect()
        self.connected = False
        for subscription in self._fan_out.take_all():
            subscription.mark_missed()

    # -- operations --------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until what was published so far has left this process (sent to Redis or
        dropped); False if some is still queued after `timeout` seconds."""
        return self._outbox.flush(timeout)

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
                if self._has_connected and not self._stop.is_set():
                    self.outages.started(channels=1)
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
            self.outages.ended(channels=1)
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
        item = envelope.get("item")
        self._fan_out.deliver(envelope["channel"], item, item if envelope.get("head") else None)
        if self.on_received is not None:
            self.on_received("item")


def _close_quietly(pubsub: PubSub) -> None:
    try:
        pubsub.close()
    except (redis.RedisError, OSError):
        pass  # the connection is being thrown away; nothing to tell anyone

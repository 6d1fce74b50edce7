"""Both brokers: delivery, bounded queues, the missed and ended signals. RedisBroker alone:
processes sharing one Redis, one pub/sub connection per process, Redis down or restarted."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import redis

from devtone.realtime.broker import ENDED, MISSED, MemoryBroker, Subscription
from devtone.realtime.redis_broker import (
    BREAKER_THRESHOLD,
    PUBLISH_BATCH,
    PUBLISH_QUEUE,
    RedisBroker,
    reconnect_delay,
)
from tests.conftest import require

REDIS_URL = os.environ.get("DEVTONE_TEST_REDIS_URL")
NO_REDIS = "DEVTONE_TEST_REDIS_URL is not set (Redis broker tests)"
AnyBroker = MemoryBroker | RedisBroker


def unique_channel() -> str:
    """A Redis channel no other test (or other engineer's run) publishes on."""
    return f"devtone:test:{uuid.uuid4().hex}"


@pytest.fixture(params=["memory", "redis"])
def make_broker(request: pytest.FixtureRequest) -> Iterator[Callable[..., AnyBroker]]:
    """`make_broker(queue_size=256)` → a broker of this run's kind, closed after the test.

    Redis brokers made in one test share a channel of their own, like the processes of
    one deployment.
    """
    if request.param == "redis":
        require(REDIS_URL is not None, NO_REDIS)
    channel = unique_channel()
    made: list[AnyBroker] = []

    def make(queue_size: int = 256) -> AnyBroker:
        if request.param == "memory":
            broker: AnyBroker = MemoryBroker(queue_size)
        else:
            broker = RedisBroker(REDIS_URL, queue_size, channel=channel)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def any_broker(make_broker: Callable[..., AnyBroker]) -> AnyBroker:
    """One broker of each kind (named so as not to shadow conftest's app-bound `broker`)."""
    return make_broker()


def flush(broker: AnyBroker) -> None:
    """Return once everything `broker` published so far has reached local subscribers.

    Redis delivers one publisher's messages in order, so when a marker published last
    arrives, so has everything before it; MemoryBroker delivers at once anyway.
    """
    probe = broker.subscribe(["test:flush"])
    try:
        broker.publish("test:flush", {"flush": True})
        assert probe.get(timeout=5) == {"flush": True}
    finally:
        probe.close()


def next_item(subscription: Subscription, timeout: float = 5) -> Any:
    """The next published item, skipping MISSED (a marked reader may see it twice)."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        item = subscription.get(timeout=remaining)
        if item is not MISSED:
            return item
    return None


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout} s: {condition}")
        time.sleep(0.02)


# -- both brokers -----------------------------------------------------------------------


def test_publish_reaches_every_subscriber_of_the_channel_only(any_broker):
    a = any_broker.subscribe(["conversation:1"])
    b = any_broker.subscribe(["conversation:1"])
    other = any_broker.subscribe(["conversation:2"])
    any_broker.publish("conversation:1", {"n": 1})
    assert a.get(timeout=5) == {"n": 1}
    assert b.get(timeout=5) == {"n": 1}
    flush(any_broker)
    assert other.get(timeout=0) is None


def test_an_observer_sees_every_channel_and_is_no_subscriber(make_broker):
    publisher, listener = make_broker(), make_broker()  # two processes, with Redis
    heard = []
    listener.observe(lambda channel, item: heard.append((channel, item)))
    probe = listener.subscribe(["conversation:2"])  # tells when the items have come
    if isinstance(listener, MemoryBroker):
        publisher = listener  # one process: it hears only its own
    publisher.publish("conversation:1", {"n": 1})
    publisher.publish("conversation:2", {"n": 2})
    assert probe.get(timeout=5) == {"n": 2}
    assert heard == [("conversation:1", {"n": 1}), ("conversation:2", {"n": 2})]
    assert listener.subscriber_count() == 1  # only the probe


def test_items_arrive_in_the_order_they_were_published(any_broker):
    subscription = any_broker.subscribe(["c"])
    for n in range(20):
        any_broker.publish("c", {"n": n})
    assert [subscription.get(timeout=5) for _ in range(20)] == [{"n": n} for n in range(20)]


def test_holds_looks_only_at_what_is_still_unread(make_broker):
    broker = make_broker()
    subscription = broker.subscribe(["c"])
    broker.publish("c", {"n": 1})
    broker.publish("c", {"n": 2})
    flush(broker)
    assert subscription.holds(lambda item: item["n"] == 2)
    assert not subscription.holds(lambda item: item["n"] == 3)
    subscription.get(timeout=0)
    subscription.get(timeout=0)
    assert not subscription.holds(lambda item: item["n"] == 2)


def test_get_returns_none_after_the_timeout_when_nothing_is_published(any_broker):
    subscription = any_broker.subscribe(["c"])
    assert subscription.get(timeout=0.01) is None


def test_a_full_queue_drops_and_then_reports_missed_instead_of_growing(make_broker):
    broker = make_broker(queue_size=2)
    subscription = broker.subscribe(["c"])
    for n in range(5):
        broker.publish("c", {"n": n})
    flush(broker)
    assert subscription.get(timeout=0) is MISSED
    # After MISSED the reader re-reads the database; what is still queued is older.
    assert subscription.get(timeout=0) == {"n": 0}
    assert subscription.get(timeout=0) == {"n": 1}
    assert subscription.get(timeout=0) is None


def test_mark_missed_wakes_a_blocked_reader(any_broker):
    subscription = any_broker.subscribe(["c"])
    got = []
    reader = threading.Thread(target=lambda: got.append(subscription.get(timeout=5)))
    reader.start()
    subscription.mark_missed()
    reader.join(timeout=5)
    assert got == [MISSED]


def test_mark_missed_on_an_idle_reader_asks_for_one_repair_not_two(any_broker):
    subscription = any_broker.subscribe(["c"])
    subscription.mark_missed()
    assert subscription.get(timeout=0) is MISSED
    assert subscription.get(timeout=0.05) is None


def test_close_unsubscribes_and_is_idempotent(any_broker):
    subscription = any_broker.subscribe(["c", "d"])
    assert any_broker.subscriber_count() == 1
    subscription.close()
    subscription.close()
    assert any_broker.subscriber_count() == 0
    any_broker.publish("c", {"n": 1})
    flush(any_broker)
    assert subscription.get(timeout=0) is None


def test_closing_the_broker_tells_subscribers_they_may_have_missed(any_broker):
    subscription = any_broker.subscribe(["c"])
    any_broker.close()
    any_broker.close()
    assert subscription.get(timeout=0) is MISSED
    assert any_broker.subscriber_count() == 0


def test_end_all_ends_every_subscription_for_good_without_draining_its_queue(any_broker):
    a = any_broker.subscribe(["c"])
    b = any_broker.subscribe(["d"])
    any_broker.publish("c", {"n": 1})
    flush(any_broker)
    any_broker.end_all()
    # The client reconnects elsewhere and resumes from its cursor: nothing more to send.
    assert a.get(timeout=0) is ENDED
    assert a.get(timeout=0) is ENDED
    assert b.get(timeout=0) is ENDED
    assert any_broker.subscriber_count() == 0


def test_end_all_wakes_a_blocked_reader(any_broker):
    subscription = any_broker.subscribe(["c"])
    got = []
    reader = threading.Thread(target=lambda: got.append(subscription.get(timeout=5)))
    reader.start()
    any_broker.end_all()
    reader.join(timeout=5)
    assert got == [ENDED]


def test_ended_wins_over_missed_and_later_publishes(make_broker):
    broker = make_broker(queue_size=1)
    subscription = broker.subscribe(["c"])
    for n in range(3):
        broker.publish("c", {"n": n})
    flush(broker)
    subscription.end()
    subscription.mark_missed()
    broker.publish("c", {"n": 3})
    flush(broker)
    assert subscription.get(timeout=0) is ENDED


def test_the_broker_serves_new_subscribers_after_end_all(any_broker):
    any_broker.subscribe(["c"])
    any_broker.end_all()
    subscription = any_broker.subscribe(["c"])
    any_broker.publish("c", {"n": 1})
    assert subscription.get(timeout=5) == {"n": 1}


# -- RedisBroker alone ------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    """The shared test Redis (a database of its own, e.g. redis://127.0.0.1:6379/15)."""
    require(REDIS_URL is not None, NO_REDIS)
    return REDIS_URL


@pytest.fixture
def closing() -> Iterator[Callable[[RedisBroker], RedisBroker]]:
    """`closing(broker)` → broker, closed after the test whatever happened."""
    brokers: list[RedisBroker] = []

    def register(broker: RedisBroker) -> RedisBroker:
        brokers.append(broker)
        return broker

    yield register
    for broker in brokers:
        broker.close()


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query string."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *params.items()])))


def pubsub_connections(url: str, name: str) -> int:
    """How many connections named `name` the Redis at `url` holds in pub/sub state."""
    admin = redis.Redis.from_url(url)
    try:
        clients = admin.client_list()
    finally:
        admin.close()
    return sum(1 for c in clients if c.get("name") == name and "P" in c.get("flags", ""))


def test_two_brokers_on_one_redis_see_each_others_publishes(redis_url, closing):
    channel = unique_channel()
    first = closing(RedisBroker(redis_url, channel=channel))
    second = closing(RedisBroker(redis_url, channel=channel))
    on_first = first.subscribe(["conversation:1"])
    on_second = second.subscribe(["conversation:1"])
    first.publish("conversation:1", {"from": "first"})
    second.publish("conversation:1", {"from": "second"})
    for subscription in (on_first, on_second):
        # Two processes' publishes have no order between them (each has its own sender).
        heard = [subscription.get(timeout=5), subscription.get(timeout=5)]
        assert sorted(item["from"] for item in heard) == ["first", "second"]


def test_brokers_on_different_redis_channels_do_not_hear_each_other(redis_url, closing):
    ours = closing(RedisBroker(redis_url, channel=unique_channel()))
    theirs = closing(RedisBroker(redis_url, channel=unique_channel()))
    subscription = ours.subscribe(["conversation:1"])
    theirs.publish("conversation:1", {"n": 1})
    flush(ours)
    assert subscription.get(timeout=0) is None


def test_one_pubsub_connection_per_broker_however_many_subscribers(redis_url, closing):
    name = f"devtone-test-{uuid.uuid4().hex[:12]}"
    url = with_query(redis_url, client_name=name)
    channel = unique_channel()
    first = closing(RedisBroker(url, channel=channel))
    subscriptions = [first.subscribe([f"conversation:{n % 7}"]) for n in range(50)]
    for n in range(20):
        first.publish(f"conversation:{n % 7}", {"n": n})
    flush(first)
    assert first.subscriber_count() == 50
    assert pubsub_connections(redis_url, name) == 1
    # A second process adds exactly one more, whatever it serves.
    second = closing(RedisBroker(url, channel=channel))
    for n in range(10):
        second.subscribe([f"conversation:{n}"])
    assert pubsub_connections(redis_url, name) == 2
    for subscription in subscriptions:
        subscription.close()
    assert pubsub_connections(redis_url, name) == 2


def test_creating_a_redis_broker_connects_to_nothing_and_starts_no_thread():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.2)
        threads = set(threading.enumerate())
        broker = RedisBroker(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
        try:
            assert set(threading.enumerate()) == threads
            with pytest.raises(TimeoutError):
                listener.accept()
            assert not broker.connected
        finally:
            broker.close()


def test_publish_while_redis_is_unreachable_returns_at_once_and_warns_once(
    refused_url, closing, caplog
):
    caplog.set_level(logging.WARNING, logger="devtone.realtime.redis_broker")
    broker = closing(RedisBroker(refused_url))
    for n in range(20):
        broker.publish("c", {"n": n})
        wait_until(lambda n=n: broker.dropped == n + 1)
    assert broker.publish_failures == BREAKER_THRESHOLD  # then the breaker dropped them
    assert not broker.ping()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([m for m in messages if "publish failed" in m]) == 1
    assert len([m for m in messages if "skipping them" in m]) == 1


def test_a_hung_redis_never_makes_a_publish_wait_and_the_breaker_stops_the_pile_up(
    silent_server, closing
):
    dropped: dict[str, int] = {}
    broker = closing(
        RedisBroker(
            silent_server.url("redis"),
            on_dropped=lambda reason, n: dropped.update({reason: dropped.get(reason, 0) + n}),
        )
    )
    started = time.monotonic()
    for n in range(5000):
        broker.publish("c", {"n": n})
    assert time.monotonic() - started < 1  # about 10 µs each; a wait on Redis is 0.25 s
    # The queue holds at most PUBLISH_QUEUE; the sender gives up on each batch after the
    # timeout, and after BREAKER_THRESHOLD of them drops the rest without asking Redis.
    wait_until(lambda: broker.breaker.is_open, timeout=2)
    assert broker.publish_failures == BREAKER_THRESHOLD
    assert dropped["queue_full"] >= 5000 - PUBLISH_QUEUE - BREAKER_THRESHOLD * PUBLISH_BATCH
    wait_until(lambda: sum(dropped.values()) == 5000, timeout=2)
    started = time.monotonic()
    broker.publish("c", {"n": "later"})
    assert time.monotonic() - started < 0.01
    assert dropped["breaker_open"] >= 1


def test_a_ping_of_a_hung_redis_says_no_within_the_timeout(silent_server, closing):
    broker = closing(RedisBroker(silent_server.url("redis"), timeout=0.1))
    started = time.monotonic()
    assert not broker.ping()
    assert time.monotonic() - started < 0.5


def test_after_flush_what_was_published_has_left_and_a_new_subscriber_hears_none_of_it(
    redis_url, closing
):
    channel = unique_channel()
    publisher = closing(RedisBroker(redis_url, channel=channel))
    reader = closing(RedisBroker(redis_url, channel=channel))
    for n in range(100):
        publisher.publish("c", {"n": n})
    assert publisher.flush(timeout=5)
    late = reader.subscribe(["c"])
    publisher.publish("c", {"n": "after"})
    assert late.get(timeout=5) == {"n": "after"}


def test_queued_publishes_reach_redis_in_order_in_pipelines(redis_url, closing):
    channel = unique_channel()
    publisher = closing(RedisBroker(redis_url, channel=channel))
    reader = closing(RedisBroker(redis_url, queue_size=5000, channel=channel))
    subscription = reader.subscribe(["c"])
    for n in range(3000):  # faster than one round trip each: they leave in batches
        publisher.publish("c", {"n": n})
    assert [subscription.get(timeout=5) for _ in range(3000)] == [{"n": n} for n in range(3000)]
    assert publisher.dropped == 0


def test_subscribing_while_redis_is_unreachable_returns_a_quiet_subscription(refused_url, closing):
    broker = closing(RedisBroker(refused_url))
    started = time.monotonic()
    subscription = broker.subscribe(["c"])
    assert time.monotonic() - started < 3.5
    assert subscription.get(timeout=0.05) is None
    assert not broker.connected
    assert broker.subscriber_count() == 1


def test_after_redis_restarts_subscribers_are_told_they_missed_and_delivery_resumes(
    redis_server, closing
):
    broker = closing(RedisBroker(redis_server.url))
    subscription = broker.subscribe(["c"])
    assert broker.connected
    broker.publish("c", {"n": 1})
    assert subscription.get(timeout=5) == {"n": 1}

    redis_server.stop()
    wait_until(lambda: not broker.connected)
    broker.publish("c", {"n": 2})  # lost: that is what MISSED is for
    wait_until(lambda: broker.publish_failures == 1)
    during_outage = broker.subscribe(["c"])
    assert during_outage.get(timeout=0) is None

    redis_server.start()
    assert subscription.get(timeout=8) is MISSED
    assert during_outage.get(timeout=1) is MISSED
    assert broker.connected
    assert broker.reconnects == 1
    assert broker.ping()
    broker.publish("c", {"n": 3})
    assert next_item(subscription) == {"n": 3}
    assert next_item(during_outage) == {"n": 3}


def test_a_killed_pubsub_connection_is_replaced_and_subscribers_are_told(redis_url, closing):
    name = f"devtone-test-{uuid.uuid4().hex[:12]}"
    broker = closing(RedisBroker(with_query(redis_url, client_name=name), channel=unique_channel()))
    subscription = broker.subscribe(["c"])
    admin = redis.Redis.from_url(redis_url)
    try:
        [pubsub] = [c for c in admin.client_list() if c["name"] == name and "P" in c["flags"]]
        assert admin.client_kill_filter(_id=pubsub["id"]) == 1
    finally:
        admin.close()
    assert subscription.get(timeout=5) is MISSED
    assert broker.reconnects == 1
    broker.publish("c", {"n": 1})
    assert next_item(subscription) == {"n": 1}


def test_losses_move_when_the_listener_comes_back_and_are_unknown_while_it_is_away(
    redis_url, closing
):
    """What lets a shared catch-up page refuse reuse on any broker trouble."""
    name = f"devtone-test-{uuid.uuid4().hex[:12]}"
    broker = closing(RedisBroker(with_query(redis_url, client_name=name), channel=unique_channel()))
    assert broker.losses() is None  # not listening yet
    subscription = broker.subscribe(["c"])
    assert broker.losses() == 0
    admin = redis.Redis.from_url(redis_url)
    try:
        [pubsub] = [c for c in admin.client_list() if c["name"] == name and "P" in c["flags"]]
        admin.client_kill_filter(_id=pubsub["id"])
    finally:
        admin.close()
    assert subscription.get(timeout=5) is MISSED
    assert broker.losses() == 1


def test_a_publish_dropped_here_is_a_loss(redis_url, closing):
    broker = closing(RedisBroker(redis_url, channel=unique_channel()))
    broker.subscribe(["c"])
    for _ in range(BREAKER_THRESHOLD):  # as after failed publishes: the next are dropped
        broker.breaker.failed()
    broker.publish("c", {"n": 1})
    assert broker.losses() == 1


def test_the_in_process_broker_never_loses():
    broker = MemoryBroker()
    broker.subscribe(["c"])
    broker.publish("c", {"n": 1})
    assert broker.losses() == 0


def test_a_malformed_envelope_is_dropped_and_the_listener_carries_on(redis_url, closing):
    channel = unique_channel()
    broker = closing(RedisBroker(redis_url, channel=channel))
    subscription = broker.subscribe(["c"])
    admin = redis.Redis.from_url(redis_url)
    try:
        for junk in (b"not json", b"[1, 2]", b'{"channel": ["c"], "item": {}}'):
            admin.publish(channel, junk)
    finally:
        admin.close()
    broker.publish("c", {"n": 1})
    assert subscription.get(timeout=5) == {"n": 1}
    assert broker.connected


def test_closing_stops_the_listener_drops_its_connection_and_refuses_new_subscribers(
    redis_url,
):
    name = f"devtone-test-{uuid.uuid4().hex[:12]}"
    broker = RedisBroker(with_query(redis_url, client_name=name), channel=unique_channel())
    try:
        subscription = broker.subscribe(["c"])
        assert pubsub_connections(redis_url, name) == 1
    finally:
        broker.close()
    broker.close()
    assert subscription.get(timeout=0) is MISSED
    assert not broker.connected
    assert not broker.ping()
    wait_until(lambda: pubsub_connections(redis_url, name) == 0, timeout=2)
    broker.publish("c", {"n": 1})  # a late publish during shutdown is dropped quietly
    with pytest.raises(RuntimeError):
        broker.subscribe(["c"])


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (5, 3.2), (6, 5.0), (100, 5.0)],
)
def test_reconnect_delay_doubles_from_a_tenth_of_a_second_to_five_with_jitter(attempt, ceiling):
    delays = [reconnect_delay(attempt) for _ in range(200)]
    assert all(ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9 for delay in delays)
    assert len(set(delays)) > 1

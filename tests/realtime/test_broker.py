"""MemoryBroker: delivery to subscribers, bounded queues, and the missed signal."""

import threading

from devtone.realtime.broker import MISSED, MemoryBroker


def test_publish_reaches_every_subscriber_of_the_channel_only():
    broker = MemoryBroker()
    a = broker.subscribe(["conversation:1"])
    b = broker.subscribe(["conversation:1"])
    other = broker.subscribe(["conversation:2"])
    broker.publish("conversation:1", {"n": 1})
    assert a.get(timeout=1) == {"n": 1}
    assert b.get(timeout=1) == {"n": 1}
    assert other.get(timeout=0) is None


def test_get_returns_none_after_the_timeout_when_nothing_is_published():
    subscription = MemoryBroker().subscribe(["c"])
    assert subscription.get(timeout=0.01) is None


def test_a_full_queue_drops_and_then_reports_missed_instead_of_growing():
    broker = MemoryBroker(queue_size=2)
    subscription = broker.subscribe(["c"])
    for n in range(5):
        broker.publish("c", {"n": n})
    assert subscription.get(timeout=0) is MISSED
    # After MISSED the reader re-reads the database; what is still queued is older.
    assert subscription.get(timeout=0) == {"n": 0}
    assert subscription.get(timeout=0) == {"n": 1}
    assert subscription.get(timeout=0) is None


def test_mark_missed_wakes_a_blocked_reader():
    subscription = MemoryBroker().subscribe(["c"])
    got = []
    reader = threading.Thread(target=lambda: got.append(subscription.get(timeout=5)))
    reader.start()
    subscription.mark_missed()
    reader.join(timeout=5)
    assert got == [MISSED]


def test_close_unsubscribes_and_is_idempotent():
    broker = MemoryBroker()
    subscription = broker.subscribe(["c", "d"])
    assert broker.subscriber_count() == 1
    subscription.close()
    subscription.close()
    assert broker.subscriber_count() == 0
    broker.publish("c", {"n": 1})
    assert subscription.get(timeout=0) is None


def test_closing_the_broker_tells_subscribers_they_may_have_missed():
    broker = MemoryBroker()
    subscription = broker.subscribe(["c"])
    broker.close()
    assert subscription.get(timeout=0) is MISSED
    assert broker.subscriber_count() == 0

"""ClusterBroker on a real Redis Cluster (3 masters, 3 replicas on loopback): a process
hears only the channels its readers need, dashboards get heads apart, and a master's
failover is repaired (MISSED once the channel is subscribed again) and reported."""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from redis.crc import key_slot

from bench.redis_cluster import LoopbackCluster
from devtone.connections import redis_cluster as parse_cluster
from devtone.realtime.broker import HEADS, MISSED, Subscription
from devtone.realtime.cluster_broker import ClusterBroker
from devtone.realtime.shards import Shards

Make = Callable[..., ClusterBroker]


@pytest.fixture
def make_broker(redis_cluster: LoopbackCluster) -> Iterator[Make]:
    """Brokers on the test's cluster (each one a process's), closed after the test."""
    made: list[ClusterBroker] = []

    def make(**options) -> ClusterBroker:
        broker = ClusterBroker(parse_cluster(redis_cluster.url).nodes, **options)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


def received_counter() -> tuple[Counter, Callable[[str], None]]:
    counts: Counter = Counter()
    return counts, lambda kind: counts.update([kind])


def drain(subscription: Subscription, count: int, timeout: float = 10) -> list:
    """The next `count` items of `subscription` (fails if they do not come in time)."""
    items, deadline = [], time.monotonic() + timeout
    while len(items) < count:
        assert time.monotonic() < deadline, f"got {items}"
        item = subscription.get(timeout=0.2)
        if item is not None:
            items.append(item)
    return items


def post_until_live(posting, channel: str, subscription: Subscription, deadline: float) -> list:
    """Publish on `channel` until `subscription` gets an item (not just MISSED); what it got."""
    seen, n = [], 0
    while not any(isinstance(item, dict) for item in seen):
        assert time.monotonic() < deadline, f"still nothing live: {seen}"
        n += 1
        posting.publish(channel, {"n": n})
        item = subscription.get(timeout=0.2)
        if item is not None:
            seen.append(item)
    return seen


def test_a_process_hears_only_the_channels_its_readers_subscribed_to(make_broker):
    counts, count = received_counter()
    reading, posting = make_broker(on_received=count), make_broker()
    first = reading.subscribe(["conversation:1"])
    for n in range(20):
        posting.publish(f"conversation:{1 + n % 4}", {"n": n})
    assert [item["n"] for item in drain(first, 5)] == [0, 4, 8, 12, 16]
    posting.flush(5)
    time.sleep(0.3)  # anything of the other three channels would have arrived by now
    assert first.get(timeout=0) is None
    assert counts == {"item": 5}  # one channel in four: a quarter of what was published


def test_items_of_a_channel_arrive_in_the_order_they_were_published(make_broker):
    reading, posting = make_broker(), make_broker()
    subscriptions = {n: reading.subscribe([f"conversation:{n}"]) for n in range(1, 9)}
    for seq in range(1, 51):
        for n in subscriptions:
            posting.publish(f"conversation:{n}", {"seq": seq})
    for subscription in subscriptions.values():
        assert [item["seq"] for item in drain(subscription, 50)] == list(range(1, 51))


def test_a_dashboard_gets_the_heads_of_every_shard_and_never_the_entries(make_broker):
    counts, count = received_counter()
    dashboard, posting = make_broker(on_received=count), make_broker()
    heads = dashboard.subscribe([HEADS])
    for n in range(1, 41):
        posting.publish(f"conversation:{n}", {"message": "x" * 500}, head={"id": n})
    assert sorted(head["id"] for head in drain(heads, 40)) == list(range(1, 41))
    assert counts == {"head": 40}
    # Heads travel on every shard, over every master.
    assert dashboard.channels() == {"channels": 64, "shards": 64, "lost": 0}


def test_a_conversation_reader_never_gets_heads(make_broker):
    reading, posting = make_broker(), make_broker()
    subscription = reading.subscribe(["conversation:7"])
    posting.publish("conversation:7", {"entry": 1}, head={"id": 7})
    assert drain(subscription, 1) == [{"entry": 1}]
    posting.flush(5)
    time.sleep(0.3)
    assert subscription.get(timeout=0) is None


def test_the_last_reader_leaving_unsubscribes_the_channel_on_redis(make_broker, redis_cluster):
    broker = make_broker()
    name = broker.shards.wire("conversation:3")
    node = redis_cluster.master_of(key_slot(name.encode()))

    def subscribers() -> int:
        _, count = node.client().execute_command("PUBSUB", "SHARDNUMSUB", name)
        return int(count)

    first = broker.subscribe(["conversation:3"])
    second = broker.subscribe(["conversation:3"])
    assert subscribers() == 1  # one connection per node, however many readers
    first.close()
    assert subscribers() == 1
    second.close()
    deadline = time.monotonic() + 5
    while subscribers() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert subscribers() == 0
    assert broker.channels() == {"channels": 0, "shards": 0, "lost": 0}


def test_a_killed_master_is_repaired_once_its_replica_serves_the_channel(
    make_broker, redis_cluster
):
    outages: list[tuple[str, dict]] = []
    reading, posting = make_broker(), make_broker()
    reading.watch_outages(lambda event, fields: outages.append((event, fields)))
    subscription = reading.subscribe(["conversation:5"])
    elsewhere_channel = _channel_on_another_master(reading.shards, redis_cluster, "conversation:5")
    elsewhere = reading.subscribe([elsewhere_channel])
    posting.publish("conversation:5", {"n": 0})
    assert drain(subscription, 1) == [{"n": 0}]

    master = redis_cluster.master_of(key_slot(reading.shards.wire("conversation:5").encode()))
    replica = redis_cluster.replica_of(master)
    redis_cluster.kill(master)
    # Another master's channels carry on meanwhile: a dead node holds up no other.
    posting.publish(elsewhere_channel, {"n": "elsewhere"})
    assert drain(elsewhere, 1) == [{"n": "elsewhere"}]
    promoted_at = redis_cluster.wait_promoted(replica)

    # Posts go on; the reader is told MISSED (it reads the gap from the database) once
    # the channel is subscribed on the promoted replica, then hears what follows.
    seen = post_until_live(posting, "conversation:5", subscription, promoted_at + 15)
    assert seen[0] is MISSED
    assert seen.count(MISSED) == 1
    assert reading.losses() is not None  # whole again
    assert [event for event, _ in outages] == ["broker_outage", "broker_back"]
    assert outages[1][1]["duration_ms"] > 0
    assert posting.dropped > 0  # what went to the dead master was counted, not hidden


def test_losses_is_none_while_a_channel_is_lost(make_broker, redis_cluster):
    broker = make_broker()
    broker.subscribe(["conversation:9"])
    assert broker.losses() == 0
    master = redis_cluster.master_of(key_slot(broker.shards.wire("conversation:9").encode()))
    replica = redis_cluster.replica_of(master)
    redis_cluster.kill(master)
    deadline = time.monotonic() + 10
    while broker.losses() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.losses() is None  # a shared catch-up page must not be reused now
    redis_cluster.wait_promoted(replica)
    deadline = time.monotonic() + 15
    while broker.losses() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.losses() == 1  # moved: one channel lost and subscribed again


def test_ping_answers_while_every_master_does(make_broker, redis_cluster):
    broker = make_broker()
    assert broker.ping()
    redis_cluster.kill(redis_cluster.masters()[0])
    assert not broker.ping()


def test_a_subscription_confirmed_late_is_told_it_missed(make_broker, redis_cluster, monkeypatch):
    from devtone.realtime import cluster_broker

    monkeypatch.setattr(cluster_broker, "SUBSCRIBE_WAIT", 0.0)  # never wait for Redis
    broker = make_broker()
    subscription = broker.subscribe(["conversation:11"])
    assert drain(subscription, 1) == [MISSED]


def test_a_closed_broker_refuses_subscriptions_and_ignores_publishes(make_broker):
    broker = make_broker()
    broker.close()
    broker.publish("conversation:1", {"n": 1})
    with pytest.raises(RuntimeError):
        broker.subscribe(["conversation:1"])


def test_an_unreachable_cluster_costs_a_publish_nothing(unused_port_url):
    broker = ClusterBroker(parse_cluster(unused_port_url).nodes)
    try:
        started = time.monotonic()
        broker.publish("conversation:1", {"n": 1})
        assert time.monotonic() - started < 0.5  # queued, never waited on
        assert broker.flush(5)
        assert broker.dropped == 1
        assert not broker.ping()
    finally:
        broker.close()


@pytest.fixture
def unused_port_url() -> str:
    from tests.servers import free_port

    return f"redis+cluster://127.0.0.1:{free_port()}"


def test_shards_spread_their_slots_evenly_over_the_slot_space():
    shards = Shards("devtone:events", 64)
    assert [slot * 64 // 16384 for slot in shards.slots] == list(range(64))
    # Three masters own thirds of the slots: each carries a third of the shards, give or
    # take the shard a boundary cuts through.
    per_third = Counter(slot * 3 // 16384 for slot in shards.slots)
    assert max(per_third.values()) - min(per_third.values()) <= 2
    # Every channel of a shard shares its slot; the shard is stable for a channel.
    wire = shards.wire("conversation:42")
    assert key_slot(wire.encode()) == shards.slots[shards.shard_of("conversation:42")]
    assert Shards("devtone:events", 64).wire("conversation:42") == wire


def test_shards_refuse_a_count_out_of_range():
    with pytest.raises(ValueError):
        Shards("x", 0)
    with pytest.raises(ValueError):
        Shards("x", 5000)


def _channel_on_another_master(shards: Shards, cluster: LoopbackCluster, channel: str) -> str:
    mine = cluster.master_of(key_slot(shards.wire(channel).encode())).port
    for n in range(100, 200):
        other = f"conversation:{n}"
        if cluster.master_of(key_slot(shards.wire(other).encode())).port != mine:
            return other
    raise AssertionError("every channel on one master")


def test_a_resharded_slot_is_subscribed_again_on_its_new_master(make_broker, redis_cluster):
    reading, posting = make_broker(), make_broker()
    subscription = reading.subscribe(["conversation:21"])
    slot = key_slot(reading.shards.wire("conversation:21").encode())
    source = redis_cluster.master_of(slot)
    target = next(node for node in redis_cluster.masters() if node.port != source.port)

    # An operator moves the slot (it holds no keys: channels are not keys).
    source_id = source.client().execute_command("CLUSTER", "MYID").decode()
    target_id = target.client().execute_command("CLUSTER", "MYID").decode()
    target.client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    source.client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    for node in redis_cluster.masters():
        node.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)

    # Redis unsubscribed the channel on the old master; the process subscribes it on the
    # new one, tells its reader it may have missed something, and hears what follows.
    seen = post_until_live(posting, "conversation:21", subscription, time.monotonic() + 15)
    assert seen[0] is MISSED
    assert reading.channels() == {"channels": 1, "shards": 1, "lost": 0}


def test_a_listener_whose_connection_lies_past_descriptor_1024_still_hears(make_broker):
    # A worker holding a thousand streams opens its Redis connections past FD_SETSIZE,
    # where select() refuses to look: the listener must wait some other way.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    ballast = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        reading, posting = make_broker(), make_broker()
        subscription = reading.subscribe(["conversation:31"])
        posting.publish("conversation:31", {"n": 1})
        assert drain(subscription, 1) == [{"n": 1}]
    finally:
        for descriptor in ballast:
            os.close(descriptor)

"""A devtone app on a Redis Cluster (REDIS_URL=redis+cluster://…): its broker shards, its
dashboards get small heads, a poll still sees typing, and the counts that Redis keeps
(rate limits, streams per conversation) work on the cluster too."""

from __future__ import annotations

import time

import pytest

from devtone import create_app
from devtone.domain import conversations, presence
from devtone.domain.visitors import Visitor
from devtone.feeds.typing_board import TypingBoard
from devtone.realtime.broker import HEADS, MISSED
from devtone.realtime.cluster_broker import ClusterBroker
from devtone.realtime.shared_slots import SharedStreamCounts
from tests.conftest import ON_SQLITE, app_on


# The database is beside the point in these tests: what they test is the cluster.
@pytest.fixture
def cluster_app(database_url, redis_cluster, redis_channel):
    with app_on(
        database_url,
        redis_cluster.url,
        redis_channel,
        RATELIMIT_STORAGE_URI=redis_cluster.url,
        RATELIMIT_KEY_PREFIX=redis_channel,
    ) as app:
        yield app


def next_item(subscription, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = subscription.get(timeout=0.2)
        if item is not None and item is not MISSED:
            return item
    raise AssertionError("nothing arrived")


def test_a_cluster_url_gives_a_sharded_broker_and_building_the_app_reaches_nothing(tmp_path):
    # Nothing listens there: building the app must not try.
    app = create_app({"TESTING": True, "REDIS_URL": "redis+cluster://127.0.0.1:1,127.0.0.1:2"})
    broker = app.extensions["devtone.broker"]
    assert isinstance(broker, ClusterBroker)
    assert broker.startup_nodes == [("127.0.0.1", 1), ("127.0.0.1", 2)]
    assert broker.shards.count == 64
    broker.close()


@ON_SQLITE
def test_a_visitors_post_reaches_its_conversations_reader_and_a_dashboard_its_head(cluster_app):
    broker = cluster_app.extensions["devtone.broker"]
    with cluster_app.app_context():
        conversation, token = conversations.start_conversation("Ana", None)
    reader = broker.subscribe([f"conversation:{conversation['id']}"])
    dashboard = broker.subscribe([HEADS])
    long_text = "Olá, preciso de ajuda com o pedido " + "muito " * 900  # 5,000+ characters
    with cluster_app.app_context():
        conversations.post_message(conversation["id"], Visitor(token), long_text[:4000])
    item = next_item(reader)
    assert item["message"]["body"] == long_text[:4000]  # the reader gets the whole entry
    head = next_item(dashboard)
    while head["conversation"]["last_message"] is None:  # the start's own head first
        head = next_item(dashboard)
    assert "message" not in head  # never the entry itself
    preview = head["conversation"]["last_message"]["body"]
    assert len(preview) == 280 and long_text.startswith(preview)
    assert head["conversation"]["id"] == conversation["id"]
    assert head["conversation"]["unread"] == 1


@ON_SQLITE
def test_a_poll_sees_typing_from_its_second_ask_on(cluster_app):
    broker = cluster_app.extensions["devtone.broker"]
    board = TypingBoard(broker)
    with cluster_app.app_context():
        conversation, token = conversations.start_conversation("Ana", None)
    # The first poll subscribes the process to the conversation: it has heard nothing yet.
    assert board.typing_now(conversation["id"], "visitor") is None
    with cluster_app.app_context():
        presence.announce_typing(conversation["id"], Visitor(token), True)
    deadline = time.monotonic() + 5
    while board.typing_now(conversation["id"], "visitor") is None:
        assert time.monotonic() < deadline, "the typing was never heard"
        time.sleep(0.05)
    assert board.typing_now(conversation["id"], "visitor")["name"] == "Ana"
    assert broker.channels()["channels"] == 1  # held once, however often polls ask


@ON_SQLITE
def test_a_poll_no_longer_asked_about_is_let_go(cluster_app):
    broker = cluster_app.extensions["devtone.broker"]
    now = [0.0]
    board = TypingBoard(broker, clock=lambda: now[0], hold_for=60)
    board.typing_now(1, "visitor")
    board.typing_now(2, "visitor")
    assert broker.channels()["channels"] == 2
    now[0] = 61
    board.typing_now(2, "visitor")  # asked again: kept; 1 was not asked for a minute
    deadline = time.monotonic() + 5
    while broker.channels()["channels"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)


@ON_SQLITE
def test_rate_limits_are_counted_on_the_cluster(cluster_app):
    cluster_app.config["CONVERSATION_RATE_LIMIT"] = "2 per minute"
    client = cluster_app.test_client()
    answers = [
        client.post("/api/conversations", json={"name": f"Ana {n}"}).status_code for n in range(3)
    ]
    assert answers == [201, 201, 429]


def test_streams_per_conversation_are_counted_across_processes_on_the_cluster(
    redis_cluster, redis_channel
):
    prefix = f"{{{redis_channel}}}:"  # one hash tag: one slot, as the scripts need
    first = SharedStreamCounts(redis_cluster.url, prefix)
    second = SharedStreamCounts(redis_cluster.url, prefix)
    try:
        assert first.take(7, limit=2) is True
        assert second.take(7, limit=2) is True
        assert second.take(7, limit=2) is False
        first.give_back(7)
        deadline = time.monotonic() + 5
        while second.take(7, limit=2) is not True:
            assert time.monotonic() < deadline, "the stream given back was never counted"
            time.sleep(0.05)
    finally:
        first.close()
        second.close()


def test_a_cluster_down_at_start_leaves_the_app_up_counting_limits_in_memory(
    tmp_path, monkeypatch, caplog
):
    from devtone.extensions import db

    monkeypatch.setenv("REDIS_URL", "redis+cluster://127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
        assert "Rate limits count in this process only" in caplog.text
        with app.app_context():
            db.create_all()
        answer = app.test_client().post("/api/conversations", json={"name": "Ana"})
        assert answer.status_code == 201  # a customer is served; the post is published later
    finally:
        app.extensions["devtone.broker"].close()

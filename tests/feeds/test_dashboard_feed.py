"""The dashboard feed in-process: SSE snapshot and upserts, stats, repair; long-poll by etag."""

import threading
import time

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.feeds.test_conversation_feed import parse


class DashboardStream:
    """GET /api/dashboard/events for a signed-in agent, read frame by frame."""

    def __init__(self, agent_client):
        self.response = agent_client.get("/api/dashboard/events", buffered=False)
        assert self.response.status_code == 200
        assert self.response.content_type == "text/event-stream"
        self.frames = iter(self.response.response)

    def next(self):
        return parse(next(self.frames))

    def until(self, event, check=lambda data: True, limit=60):
        seen = []
        for _ in range(limit):
            frame = self.next()
            seen.append(frame)
            if frame.get("event") == event and check(frame["data"]):
                return frame["data"]
        raise AssertionError(f"no {event} came; got {seen}")

    def close(self):
        self.response.close()


def test_the_feed_says_hello_then_sends_a_snapshot(app, start_visitor, visitor, agent, sign_in):
    start_visitor("Left without writing")  # not listed, not counted: nobody's work yet
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "hello?")
    stream = DashboardStream(sign_in(agent))
    try:
        hello = stream.next()
        assert hello["event"] == "hello" and "retry" in hello
        assert hello["data"]["agent"] == {"id": agent.id, "name": "Maria", "role": "agent"}
        snapshot = stream.next()
        assert snapshot["event"] == "snapshot"
        assert [c["id"] for c in snapshot["data"]["conversations"]] == [visitor.id]
        assert snapshot["data"]["stats"]["waiting"] == 1
        assert snapshot["data"]["etag"]
    finally:
        stream.close()


def test_new_conversations_and_messages_arrive_as_upserts_then_stats(
    app, start_visitor, agent, sign_in
):
    # No heartbeat repair in between: this test reads the stream lazily, and a repair
    # would (rightly) send the change in a snapshot instead of an upsert.
    app.config["SSE_HEARTBEAT"] = 30
    stream = DashboardStream(sign_in(agent))
    try:
        stream.until("snapshot")
        ada = start_visitor("Ada")  # started: nothing is announced until she writes
        with app.app_context():
            conversations.post_message(ada.id, Visitor(ada.token), "hello?")
        # The upsert and the statistics after it (in either order: the stream is read
        # lazily here, so the statistics may already include the message).
        frames = [stream.next(), stream.next()]
        (upsert,) = [f["data"] for f in frames if f["event"] == "conversation"]
        assert (upsert["id"], upsert["status"]) == (ada.id, "waiting")
        assert (upsert["unread"], upsert["last_message"]["body"]) == (1, "hello?")
        (stats,) = [f["data"] for f in frames if f["event"] == "stats"]
        assert (stats["waiting"], stats["messages_today"]) == (1, 1)
        with app.app_context():
            conversations.post_message(ada.id, Visitor(ada.token), "anyone?")
        again = stream.until("conversation")
        assert again["version"] > upsert["version"] and again["unread"] == 2
    finally:
        stream.close()


def test_a_deactivated_agents_feed_ends_at_the_next_heartbeat(app, agent, admin, sign_in):
    from devtone.domain import agents

    stream = DashboardStream(sign_in(agent))
    try:
        stream.until("snapshot")
        with app.app_context():
            agents.set_active(agent.id, False, admin.identity)
        frames = list(stream.frames)  # the stream ends by itself
    finally:
        stream.close()
    assert len(frames) <= 2  # at most the heartbeat that was due


def test_a_missed_publish_is_repaired_at_the_next_heartbeat(app, visitor, agent, sign_in):
    broker = app.extensions["devtone.broker"]
    stream = DashboardStream(sign_in(agent))
    try:
        stream.until("snapshot")
        publish = broker.publish
        broker.publish = lambda channel, item, head=None: None  # the publish is lost
        try:
            with app.app_context():
                conversations.post_message(visitor.id, Visitor(visitor.token), "lost?")
        finally:
            broker.publish = publish
        # An upsert of what changed, not a whole snapshot (which might be a heartbeat old).
        repaired = stream.until("conversation")
        assert repaired["last_message"]["body"] == "lost?"
    finally:
        stream.close()


def test_a_broker_overflow_makes_the_feed_send_a_fresh_snapshot(app, visitor, agent, sign_in):
    app.config["SSE_HEARTBEAT"] = 30  # the repair must come from MISSED, not a heartbeat
    broker = app.extensions["devtone.broker"]
    stream = DashboardStream(sign_in(agent))
    try:
        stream.until("snapshot")
        deadline = time.monotonic() + 5
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with app.app_context():
            conversations.post_message(visitor.id, Visitor(visitor.token), "overflowed")
        for subscription in list(broker._fan_out.subscriptions()):
            subscription._items.clear()  # the queue overflowed: the upsert was dropped…
            subscription.mark_missed()  # …and the subscriber told so
        repaired = stream.next()
        assert repaired["event"] == "snapshot"
        assert repaired["data"]["conversations"][0]["last_message"]["body"] == "overflowed"
    finally:
        stream.close()


def test_long_poll_answers_at_once_when_the_etag_is_stale(app, visitor, agent, sign_in):
    maria = sign_in(agent)
    first = maria.get("/api/dashboard/snapshot").get_json()
    started = time.monotonic()
    answer = maria.get("/api/dashboard/snapshot?etag=stale&wait=5").get_json()
    assert time.monotonic() - started < 4
    assert answer["etag"] == first["etag"]


def test_long_poll_waits_for_a_change_and_answers_with_it(app, visitor, agent, sign_in):
    maria = sign_in(agent)
    etag = maria.get("/api/dashboard/snapshot").get_json()["etag"]

    def later():
        time.sleep(0.3)
        with app.app_context():
            conversations.post_message(visitor.id, Visitor(visitor.token), "news")

    poster = threading.Thread(target=later)
    poster.start()
    try:
        answer = maria.get(f"/api/dashboard/snapshot?etag={etag}&wait=10").get_json()
    finally:
        poster.join()
    assert answer["etag"] != etag
    assert answer["conversations"][0]["last_message"]["body"] == "news"


def test_long_poll_returns_the_same_etag_after_a_quiet_wait(app, visitor, agent, sign_in):
    maria = sign_in(agent)
    etag = maria.get("/api/dashboard/snapshot").get_json()["etag"]
    answer = maria.get(f"/api/dashboard/snapshot?etag={etag}&wait=1").get_json()
    assert answer["etag"] == etag


def test_a_bad_wait_is_invalid(agent, sign_in):
    answer = sign_in(agent).get("/api/dashboard/snapshot?wait=31")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "wait"


def test_a_deactivated_agents_conversation_stream_ends_too(app, visitor, agent, admin, sign_in):
    from devtone.domain import agents

    maria = sign_in(agent)
    response = maria.get(f"/api/conversations/{visitor.id}/events", buffered=False)
    frames = iter(response.response)
    try:
        assert parse(next(frames))["event"] == "hello"
        with app.app_context():
            agents.set_active(agent.id, False, admin.identity)
        rest = list(frames)  # ends by itself at the next heartbeat
    finally:
        response.close()
    assert len(rest) <= 2

"""SSE streams and long-poll in-process: order, resume, repair, and clean-up."""

import json
import threading
import time
import uuid
from contextlib import contextmanager

import pytest

from devtone.domain import announce, conversations
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from devtone.feeds import loop


def post(app, visitor, body="hi"):
    with app.app_context():
        return conversations.post_message(
            visitor.id, Visitor(visitor.token), body, str(uuid.uuid4())
        )[0]


def parse(chunk):
    """One SSE frame → {field: value}, data parsed as JSON."""
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    fields = {}
    for line in text.strip("\n").split("\n"):
        name, _, value = line.partition(": ")
        fields[name] = value
    if "data" in fields:
        fields["data"] = json.loads(fields["data"])
    return fields


class Stream:
    """A streaming response read frame by frame in the test's thread."""

    def __init__(self, client, visitor, after=None, last_event_id=None):
        url = f"/api/conversations/{visitor.id}/events?token={visitor.token}"
        if after is not None:
            url += f"&after={after}"
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        self.response = client.get(url, headers=headers, buffered=False)
        self.frames = iter(self.response.response)

    def next(self):
        return parse(next(self.frames))

    def until_seq(self, seq, limit=50):
        """Frames up to and including the message with `seq`."""
        seen = []
        for _ in range(limit):
            frame = self.next()
            seen.append(frame)
            if frame.get("event") == "message" and frame["data"]["seq"] == seq:
                return seen
        raise AssertionError(f"seq {seq} never came; got {seen}")

    def close(self):
        self.response.close()


@pytest.fixture
def open_stream(client):
    streams = []

    def open_(visitor, **kwargs):
        stream = Stream(client, visitor, **kwargs)
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


def messages(frames):
    return [f["data"]["seq"] for f in frames if f.get("event") == "message"]


def test_a_stream_starts_with_retry_and_hello_and_the_sse_headers(open_stream, visitor):
    stream = open_stream(visitor)
    assert stream.response.status_code == 200
    assert stream.response.headers["Content-Type"] == "text/event-stream"
    assert stream.response.headers["Cache-Control"] == "no-cache"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in stream.response.headers
    hello = stream.next()
    assert hello["retry"] == "3000"
    assert hello["event"] == "hello"
    assert hello["data"]["tier"] == "sse"
    assert hello["data"]["cursor"] == 0
    assert "id" not in hello


def test_the_backlog_comes_first_then_live_entries_with_their_seq_as_id(app, open_stream, visitor):
    for n in range(3):
        post(app, visitor, f"m{n}")
    stream = open_stream(visitor, after=1)
    assert stream.next()["data"]["cursor"] == 1
    backlog = [stream.next(), stream.next()]
    assert [(f["id"], f["event"], f["data"]["seq"]) for f in backlog] == [
        ("2", "message", 2),
        ("3", "message", 3),
    ]
    post(app, visitor, "live")
    assert messages(stream.until_seq(4)) == [4]


def test_last_event_id_wins_over_after_on_a_reconnect(app, open_stream, visitor):
    for n in range(5):
        post(app, visitor, f"m{n}")
    stream = open_stream(visitor, after=1, last_event_id=3)
    assert stream.next()["data"]["cursor"] == 3
    assert messages(stream.until_seq(5)) == [4, 5]


def test_heartbeats_are_ping_events_without_an_id(open_stream, visitor):
    stream = open_stream(visitor)
    stream.next()
    ping = stream.next()
    assert ping["event"] == "ping"
    assert "time" in ping["data"]
    assert "id" not in ping


def test_a_dropped_publish_reaches_the_stream_at_the_next_heartbeat(
    app, open_stream, visitor, broker, monkeypatch
):
    stream = open_stream(visitor)
    assert [stream.next()["event"], stream.next()["event"]] == ["hello", "ping"]
    monkeypatch.setattr(broker, "publish", lambda channel, item, head=None: None)
    post(app, visitor, "lost in the broker")
    # Past the backlog, with nothing published: only the heartbeat's check can find it
    # (without it the stream would ping on and until_seq would give up).
    assert messages(stream.until_seq(1)) == [1]


def test_a_gap_in_the_live_feed_is_read_from_the_database(
    app, open_stream, visitor, broker, monkeypatch
):
    app.config["SSE_HEARTBEAT"] = 30  # the repair must not wait for a heartbeat…
    app.extensions["devtone.heads"].interval = 30  # …nor for the head watcher
    stream = open_stream(visitor)
    stream.next()
    publish = broker.publish
    monkeypatch.setattr(broker, "publish", lambda channel, item, head=None: None)
    post(app, visitor, "one")
    monkeypatch.setattr(broker, "publish", publish)
    post(app, visitor, "two")
    assert [(f["event"], f["data"]["seq"]) for f in stream.until_seq(2)] == [
        ("message", 1),
        ("message", 2),
    ]


def test_a_stream_that_falls_behind_catches_up_once_from_the_database(
    app, open_stream, visitor, broker
):
    broker.queue_size = 2
    stream = open_stream(visitor)
    stream.next()
    for n in range(6):
        post(app, visitor, f"m{n}")
    assert messages(stream.until_seq(6)) == [1, 2, 3, 4, 5, 6]


def test_entries_already_sent_are_never_sent_again(app, open_stream, visitor, broker):
    stream = open_stream(visitor)
    stream.next()
    post(app, visitor, "one")
    post(app, visitor, "two")
    assert messages(stream.until_seq(2)) == [1, 2]
    # Replay the broker's copies late: the cursor drops them.
    for seq in (1, 2):
        with app.app_context():
            page = conversations.messages_after(visitor.id, None, seq - 1, limit=1)
        broker.publish(
            announce.conversation_channel(visitor.id),
            {"message": page.messages[0]},
        )
    post(app, visitor, "three")
    assert messages(stream.until_seq(3)) == [3]


def test_a_waiting_stream_holds_no_database_connection(app, open_stream, visitor):
    app.extensions["devtone.heads"].interval = 3600  # ticked by hand, below
    post(app, visitor, "backlog")
    stream = open_stream(visitor)
    stream.until_seq(1)
    stream.next()  # a ping: the stream is past its backlog, waiting
    app.extensions["devtone.heads"].tick()  # and the repair query ran meanwhile
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def test_closing_the_response_ends_the_subscription(open_stream, visitor, broker):
    stream = open_stream(visitor)
    stream.next()
    assert broker.subscriber_count() == 1
    stream.close()
    assert broker.subscriber_count() == 0


@pytest.mark.parametrize(
    ("query", "headers", "status", "field"),
    [
        ("after=-3", {}, 422, "after"),
        ("after=x", {}, 422, "after"),
        ("", {"Last-Event-ID": "abc"}, 422, "Last-Event-ID"),
    ],
)
def test_a_bad_cursor_is_refused_before_the_stream_starts(
    client, visitor, broker, query, headers, status, field
):
    answer = client.get(
        f"/api/conversations/{visitor.id}/events?token={visitor.token}&{query}",
        headers=headers,
    )
    assert answer.status_code == status
    assert answer.get_json()["error"]["field"] == field
    assert broker.subscriber_count() == 0


@pytest.mark.parametrize("token", ["", "short", "C" * 43])
def test_a_stream_needs_the_conversations_token(client, visitor, broker, token):
    answer = client.get(f"/api/conversations/{visitor.id}/events?token={token}")
    assert answer.status_code in (401, 404)
    assert answer.get_json()["error"]["code"] in (
        "missing_token",
        "invalid_token",
        "not_found",
    )
    assert broker.subscriber_count() == 0


# -- long-poll (the same log, read by a waiting GET) ---------------------------------------


def test_long_poll_answers_at_once_when_entries_exist(app, client, visitor):
    post(app, visitor, "already here")
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=30",
        headers=visitor.headers,
    )
    assert [m["seq"] for m in answer.get_json()["messages"]] == [1]


@contextmanager
def posted_while_waiting(app, visitor, broker, body):
    """Post `body` from another thread as soon as a long-poll waits on the broker."""

    def post_when_waiting():
        deadline = time.monotonic() + 10
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        post(app, visitor, body)

    poster = threading.Thread(target=post_when_waiting)
    poster.start()
    try:
        yield
    finally:
        poster.join()


def test_long_poll_returns_as_soon_as_an_entry_is_committed(app, client, visitor, broker):
    with posted_while_waiting(app, visitor, broker, "wake up"):
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=0&wait=30",
            headers=visitor.headers,
        )
    body = answer.get_json()
    assert [m["body"] for m in body["messages"]] == ["wake up"]
    assert body["cursor"] == 1
    assert broker.subscriber_count() == 0


def test_long_poll_answers_empty_when_the_wait_ends(app, client, visitor, broker):
    post(app, visitor, "old")
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=1&wait=1",
        headers=visitor.headers,
    )
    body = answer.get_json()
    assert (body["messages"], body["cursor"]) == ([], 1)
    assert broker.subscriber_count() == 0


def test_long_poll_repairs_a_dropped_publish_at_the_heartbeat(
    app, client, visitor, broker, monkeypatch
):
    monkeypatch.setattr(broker, "publish", lambda channel, item, head=None: None)

    def post_soon():
        time.sleep(0.3)
        post(app, visitor, "quiet")

    poster = threading.Thread(target=post_soon)
    poster.start()
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=30",
        headers=visitor.headers,
    )
    poster.join()
    assert [m["body"] for m in answer.get_json()["messages"]] == ["quiet"]


def test_a_live_entry_is_encoded_once_for_all_its_streams(app, open_stream, visitor, monkeypatch):
    # No heartbeat repair during the test: a tick between the commit and the (Redis)
    # delivery would have each stream read the entry from the database, rightly, on its own.
    app.extensions["devtone.heads"].interval = 3600
    streams_open = [open_stream(visitor), open_stream(visitor), open_stream(visitor)]
    for stream in streams_open:
        stream.next()  # hello
        stream.next()  # past the (empty) backlog: a ping, now waiting on the broker
    encoded = []
    encode = loop.sse.encode
    monkeypatch.setattr(
        loop.sse,
        "encode",
        lambda event, *a, **k: encoded.append(event) or encode(event, *a, **k),
    )
    post(app, visitor, "to everyone")
    for stream in streams_open:
        assert messages(stream.until_seq(1)) == [1]
    assert encoded.count("message") == 1


def test_a_publish_carries_the_conversation_after_the_entry(app, visitor, broker):
    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    try:
        post(app, visitor, "first")
        item = subscription.get(timeout=5)
    finally:
        subscription.close()
    assert item["message"]["seq"] == 1
    assert item["conversation"]["last_seq"] == 1
    assert item["conversation"]["last_message"]["body"] == "first"
    assert item["conversation"]["updated_at"] == item["message"]["created_at"]


def test_long_poll_woken_by_the_next_entry_answers_without_reading_the_log(
    app, client, visitor, broker
):
    from sqlalchemy import event

    reads = []  # the thread of every SELECT that touches the messages table

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "messages" in statement:
            reads.append(threading.get_ident())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    url = f"/api/conversations/{visitor.id}/messages?after=0"
    try:
        with posted_while_waiting(app, visitor, broker, "wake up"):
            answer = client.get(url + "&wait=30", headers=visitor.headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    body = answer.get_json()
    assert [m["body"] for m in body["messages"]] == ["wake up"]
    assert body["conversation"]["last_seq"] == 1
    # Up to date, it only looked at the head; woken, it answered from the published item.
    assert reads.count(threading.get_ident()) == 0


def test_a_status_entry_is_followed_by_the_conversation_live_and_in_the_backlog(
    app, open_stream, visitor, agent
):
    """The page learns who joined from the stream itself, never by fetching it again."""
    stream = open_stream(visitor)
    stream.next()  # hello
    with app.app_context():
        conversations.assign_conversation(visitor.id, agent.identity)
    live = [stream.next() for _ in range(3)]
    live = [f for f in live if f.get("event") != "ping"][:2]
    assert [f["event"] for f in live] == ["message", "conversation"]
    assert live[0]["data"]["kind"] == "status"
    assert live[1]["data"]["agent"] == {"id": agent.id, "name": agent.identity.name}
    assert "id" not in live[1]  # no cursor: a resume never replays it

    # From the backlog (a reconnect before the join): the same conversation after it.
    resumed = open_stream(visitor, after=0)
    frames = [resumed.next() for _ in range(3)]
    assert [f["event"] for f in frames] == ["hello", "message", "conversation"]
    assert frames[2]["data"]["status"] == "active"


def test_a_text_entry_brings_no_conversation_frame(app, open_stream, visitor):
    stream = open_stream(visitor)
    stream.next()  # hello
    post(app, visitor, "plain text")
    frames = stream.until_seq(1)
    following = stream.next()
    assert [f["event"] for f in frames if f["event"] != "ping"] == ["message"]
    assert following["event"] == "ping"

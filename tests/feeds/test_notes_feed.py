"""The visitor's readers skip agents' notes (SSE and long-poll) and move past them; agents'
readers deliver them like any entry."""

import threading
import time
import uuid

import pytest

from devtone.domain import conversations
from devtone.feeds.conversation import ConversationReader
from tests.feeds.test_conversation_feed import Stream, messages, post


@pytest.fixture
def visitor_stream(client):
    streams = []

    def open_(visitor, **kwargs):
        stream = Stream(client, visitor, **kwargs)
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


def note(app, conversation_id, agent, body="internal"):
    with app.app_context():
        return conversations.post_message(
            conversation_id, agent.identity, body, str(uuid.uuid4()), "note"
        )[0]


def reply(app, conversation_id, agent, body="Hello from us"):
    with app.app_context():
        return conversations.post_message(conversation_id, agent.identity, body, str(uuid.uuid4()))[
            0
        ]


def test_the_visitors_stream_never_sends_a_note_backlog_or_live(
    app, visitor_stream, visitor, agent
):
    post(app, visitor, "hi")  # 1
    note(app, visitor.id, agent, "backlog note")  # 2
    stream = visitor_stream(visitor)
    assert stream.next()["event"] == "hello"
    assert messages([stream.next()]) == [1]
    note(app, visitor.id, agent, "live note")  # 3
    answer = reply(app, visitor.id, agent)  # 4 joined, 5 the reply
    frames = stream.until_seq(answer["seq"])
    assert messages(frames) == [4, 5]
    assert all(f["data"].get("kind") != "note" for f in frames if "data" in f)


def test_a_visitors_stream_resumed_before_trailing_notes_is_up_to_date(app, visitor, agent):
    post(app, visitor, "hi")  # 1
    note(app, visitor.id, agent)  # 2
    note(app, visitor.id, agent)  # 3
    reader = ConversationReader(app, None, visitor.id, 1, visitor_view=True)

    class Count:
        delivered = 0

    reader.connection = Count()
    assert list(reader.read()) == []
    # Past the notes: the head watcher sees it up to date (no repair every tick).
    assert reader.cursor == 3


def test_an_agents_stream_sends_notes(app, client, visitor, agent, sign_in):
    post(app, visitor, "hi")
    note(app, visitor.id, agent, "for the team")
    agent_client = sign_in(agent)
    answer = agent_client.get(f"/api/conversations/{visitor.id}/messages?after=0")
    assert [(m["seq"], m["kind"]) for m in answer.get_json()["messages"]] == [
        (1, "text"),
        (2, "note"),
    ]


def test_the_visitors_long_poll_answers_past_notes_with_a_cursor_after_them(
    app, client, visitor, agent
):
    post(app, visitor, "hi")  # 1
    note(app, visitor.id, agent)  # 2
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=1", headers=visitor.headers
    ).get_json()
    assert [m["seq"] for m in answer["messages"]] == [1]
    assert answer["cursor"] == 2


def test_a_note_does_not_wake_the_visitors_long_poll_the_reply_after_it_does(
    app, client, visitor, agent, broker
):
    post(app, visitor, "hi")  # 1

    def write_when_waiting():
        deadline = time.monotonic() + 10
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        note(app, visitor.id, agent, "psst")  # 2
        time.sleep(0.2)
        reply(app, visitor.id, agent, "Here to help")  # 3 joined, 4 the reply

    writer = threading.Thread(target=write_when_waiting)
    writer.start()
    try:
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=1&wait=30", headers=visitor.headers
        ).get_json()
    finally:
        writer.join()
    # Woken by the joined entry at seq 3: seq 2 (the note) was skipped without a gap read.
    assert [m["kind"] for m in answer["messages"]] == ["status"]
    assert answer["messages"][0]["seq"] == 3
    again = client.get(
        f"/api/conversations/{visitor.id}/messages?after={answer['cursor']}&wait=1",
        headers=visitor.headers,
    ).get_json()
    assert [m["body"] for m in again["messages"]] == ["Here to help"]


def test_the_visitors_long_poll_waiting_after_a_trailing_note_waits(app, client, visitor, agent):
    post(app, visitor, "hi")  # 1
    note(app, visitor.id, agent)  # 2
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=1&wait=1", headers=visitor.headers
    ).get_json()
    assert (answer["messages"], answer["cursor"]) == ([], 2)

"""Each side's marks reach the other side on every tier: SSE, long-poll and poll."""

import threading
import time

from devtone.domain import conversations, presence
from devtone.domain.visitors import Visitor
from tests.feeds.test_conversation_feed import parse


def _talk(app, visitor, agent):
    """The visitor asks, the agent answers: seq 1 (visitor), 2 (joined), 3 (agent)."""
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Is it in stock?")
        conversations.post_message(visitor.id, agent.identity, "Yes, two left.")


def _next_conversation(response, limit=20):
    """The next `conversation` event of an SSE response (skipping hello and the backlog)."""
    frames = iter(response.response)
    for _ in range(limit):
        frame = parse(next(frames))
        if frame.get("event") == "conversation":
            return frame["data"]
    raise AssertionError("no conversation event came")


def _stream(client, visitor, headers=None, query=""):
    url = f"/api/conversations/{visitor.id}/events?after=3{query}"
    return client.get(url, headers=headers or {}, buffered=False)


def test_the_visitors_marks_reach_the_agents_stream(app, client, visitor, agent, sign_in):
    _talk(app, visitor, agent)
    maria = sign_in(agent)
    response = _stream(maria.client, visitor)
    try:
        marked = client.post(
            f"/api/conversations/{visitor.id}/marks", json={"delivered": 3}, headers=visitor.headers
        )
        assert marked.status_code == 200
        heard = _next_conversation(response)
    finally:
        response.close()
    assert heard["marks"]["visitor"] == {"delivered": 3, "seen": 0}


def test_the_agents_marks_reach_the_visitors_stream(app, visitor, agent, sign_in, client):
    _talk(app, visitor, agent)
    maria = sign_in(agent)
    response = _stream(client, visitor, query=f"&token={visitor.token}")
    try:
        assert (
            maria.post(f"/api/conversations/{visitor.id}/marks", json={"seen": 1}).status_code
            == 200
        )
        heard = _next_conversation(response)
    finally:
        response.close()
    assert heard["marks"]["agent"] == {"delivered": 1, "seen": 1}


def test_a_waiting_long_poll_answers_with_the_other_sides_mark(app, client, visitor, agent, broker):
    _talk(app, visitor, agent)

    def mark_when_waiting():
        deadline = time.monotonic() + 10
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with app.app_context():
            presence.move_marks(visitor.id, agent.identity, {"delivered": 1})

    marker = threading.Thread(target=mark_when_waiting)
    marker.start()
    try:
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=3&wait=30", headers=visitor.headers
        )
    finally:
        marker.join()
    body = answer.get_json()
    assert (body["messages"], body["cursor"]) == ([], 3)
    assert body["conversation"]["marks"]["agent"] == {"delivered": 1, "seen": 0}


def test_a_poll_answer_carries_both_sides_marks(app, client, visitor, agent):
    _talk(app, visitor, agent)
    with app.app_context():
        presence.move_marks(visitor.id, agent.identity, {"seen": 1})
        presence.move_marks(visitor.id, Visitor(visitor.token), {"delivered": 3})
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=3&wait=0", headers=visitor.headers
    )
    assert answer.get_json()["conversation"]["marks"] == {
        "visitor": {"delivered": 3, "seen": 0},
        "agent": {"delivered": 1, "seen": 1},
    }


def test_ones_own_marks_do_not_answer_ones_long_poll_but_the_other_sides_do(
    app, client, visitor, agent, broker
):
    _talk(app, visitor, agent)

    def marks_when_waiting():
        deadline = time.monotonic() + 10
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with app.app_context():
            presence.move_marks(visitor.id, Visitor(visitor.token), {"seen": 3})  # own
            presence.move_marks(visitor.id, agent.identity, {"seen": 1})  # the agent's

    marker = threading.Thread(target=marks_when_waiting)
    marker.start()
    try:
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=3&wait=30", headers=visitor.headers
        )
    finally:
        marker.join()
    # Answered by the agent's mark, so it already carries both.
    assert answer.get_json()["conversation"]["marks"] == {
        "visitor": {"delivered": 3, "seen": 3},
        "agent": {"delivered": 1, "seen": 1},
    }

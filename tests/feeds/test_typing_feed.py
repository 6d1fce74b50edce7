"""Typing travels on long-poll too: a waiting long-poll answers with the other side's
typing, never with the caller's own, and nothing of it is stored."""

import threading
import time
from types import SimpleNamespace

from devtone.domain import conversations, presence
from devtone.domain.visitors import Visitor
from tests.conftest import settle, stored_counts


def _typing_when_waiting(app, broker, conversation_id, caller, typing=True):
    def announce():
        deadline = time.monotonic() + 10
        while broker.subscriber_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with app.app_context():
            presence.announce_typing(conversation_id, caller, typing)

    thread = threading.Thread(target=announce)
    thread.start()
    return thread


def test_a_waiting_long_poll_answers_with_the_other_sides_typing(
    app, client, visitor, agent, broker
):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hello?")
    before = stored_counts(app)
    typist = _typing_when_waiting(app, broker, visitor.id, agent.identity)
    try:
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=1&wait=30", headers=visitor.headers
        )
    finally:
        typist.join()
    body = answer.get_json()
    assert (body["messages"], body["cursor"]) == ([], 1)
    assert body["typing"] == {
        "conversation_id": visitor.id,
        "sender": "agent",
        "name": "Maria",
        "typing": True,
    }
    assert body["conversation"]["last_seq"] == 1
    assert stored_counts(app) == before


def test_ones_own_typing_does_not_answer_ones_long_poll(app, client, visitor, broker):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hello?")
    typist = _typing_when_waiting(app, broker, visitor.id, Visitor(visitor.token))
    try:
        answer = client.get(
            f"/api/conversations/{visitor.id}/messages?after=1&wait=1", headers=visitor.headers
        )
    finally:
        typist.join()
    assert "typing" not in answer.get_json()  # it waited its whole second


def test_a_poll_answer_carries_no_typing_field_when_nobody_typed(app, client, visitor):
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=0", headers=visitor.headers
    )
    assert set(answer.get_json()) == {"messages", "cursor", "conversation"}


def test_a_poll_answer_shows_who_is_typing_now_and_forgets_it_after_the_expiry(
    app, client, visitor, agent, broker
):
    from devtone.feeds import typing_board_of

    board = typing_board_of(app)
    now = [1000.0]
    board.clock = lambda: now[0]
    poll = f"/api/conversations/{visitor.id}/messages?after=0&wait=0"
    assert "typing" not in client.get(poll, headers=visitor.headers).get_json()  # attaches
    with app.app_context():
        presence.announce_typing(visitor.id, agent.identity, True)
        presence.announce_typing(visitor.id, Visitor(visitor.token), True)
    settle(broker)  # with Redis, this process hears its own announcements a moment later
    shown = client.get(poll, headers=visitor.headers).get_json()
    assert shown["typing"] == {
        "conversation_id": visitor.id,
        "sender": "agent",
        "name": "Maria",
        "typing": True,
    }  # the agent's, not the visitor's own
    now[0] += board.expiry + 1  # no new signal: the client has hidden it by now
    assert "typing" not in client.get(poll, headers=visitor.headers).get_json()


def test_a_poll_answer_shows_no_typing_once_the_other_side_stopped(
    app, client, visitor, agent, broker
):
    poll = f"/api/conversations/{visitor.id}/messages?after=0&wait=0"
    client.get(poll, headers=visitor.headers)
    with app.app_context():
        presence.announce_typing(visitor.id, agent.identity, True)
        presence.announce_typing(visitor.id, agent.identity, False)
    settle(broker)
    assert "typing" not in client.get(poll, headers=visitor.headers).get_json()


def test_a_long_poll_starting_just_after_the_other_sides_typing_answers_with_it(
    app, client, visitor, agent, broker, monkeypatch
):
    """The typing may have come while the client was between two long-polls."""
    from devtone.feeds import typing_board_of
    from devtone.feeds.conversation import TYPING_JUST_NOW

    board = typing_board_of(app)
    now = [1000.0]
    board.clock = lambda: now[0]
    client.get(f"/api/conversations/{visitor.id}/messages?after=0", headers=visitor.headers)
    with app.app_context():
        presence.announce_typing(visitor.id, agent.identity, True)
    settle(broker)  # with Redis, this process hears its own announcement a moment later
    waits = []  # the long-polls that waited on the broker
    subscribe = broker.subscribe
    monkeypatch.setattr(
        broker, "subscribe", lambda channels: waits.append(1) or subscribe(channels)
    )

    url = f"/api/conversations/{visitor.id}/messages?after=0&wait="
    answer = client.get(url + "30", headers=visitor.headers).get_json()
    assert (answer["typing"]["sender"], waits) == ("agent", []), "answered at once"
    now[0] += TYPING_JUST_NOW + 0.1  # heard before the client's previous request ended
    answer = client.get(url + "1", headers=visitor.headers).get_json()
    assert (answer["typing"]["sender"], waits) == ("agent", [1]), "waited, then still typing"


def test_a_stream_that_opens_while_the_other_side_types_starts_with_their_typing(
    app, visitor, agent, broker
):
    """A visitor's stream that reconnects while the agent types (a network blip, a deploy)
    shows "Maria is typing…" at once, not after the agent's next keystroke."""
    from devtone.feeds import heads_of, typing_board_of
    from devtone.feeds.conversation import ConversationReader

    board = typing_board_of(app)
    assert board.typing_now(visitor.id, "agent") is None  # attaches: it hears from now on
    with app.app_context():
        presence.announce_typing(visitor.id, agent.identity, True)
    settle(broker)

    def opening(visitor_view):
        reader = ConversationReader(app, heads_of(app), visitor.id, 0, visitor_view=visitor_view)
        reader.connection = SimpleNamespace(delivered=0)
        return b"".join(reader.opened(0.0)).decode()

    typing = f'{{"conversation_id":{visitor.id},"sender":"agent","name":"Maria","typing":true}}'
    assert opening(visitor_view=True) == f"event: typing\ndata: {typing}\n\n"
    assert opening(visitor_view=False) == ""  # the agent's own typing is no news to them
    with app.app_context():
        presence.announce_typing(visitor.id, agent.identity, False)
    settle(broker)
    assert opening(visitor_view=True) == ""  # stopped: nothing to show

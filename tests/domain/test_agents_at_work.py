"""Agents in a conversation: assign, answer, close, reopen, read marks, unread, typing."""

import pytest

from devtone.domain import announce, conversations, log_writer, presence
from devtone.domain.visitors import Visitor
from devtone.errors import Closed, Forbidden, Invalid
from tests.conftest import settle


def _visitor_says(app, visitor, body):
    with app.app_context():
        return conversations.post_message(visitor.id, Visitor(visitor.token), body)[0]


def _log(app, visitor):
    with app.app_context():
        return conversations.messages_after(visitor.id, Visitor(visitor.token), 0)


def test_assigning_logs_who_joined_and_makes_the_conversation_active(app, visitor, agent):
    with app.app_context():
        assigned = conversations.assign_conversation(visitor.id, agent.identity)
    assert assigned["status"] == "active"
    assert assigned["agent"] == {"id": agent.id, "name": "Maria"}
    (entry,) = _log(app, visitor).messages
    assert (entry["kind"], entry["status"], entry["body"]) == (
        "status",
        "active",
        "Maria joined the conversation.",
    )


def test_assigning_again_to_the_same_agent_changes_nothing(app, visitor, agent):
    with app.app_context():
        first = conversations.assign_conversation(visitor.id, agent.identity)
        again = conversations.assign_conversation(visitor.id, agent.identity)
    assert again["last_seq"] == first["last_seq"] == 1


def test_an_agent_cannot_take_a_conversation_another_agent_has(app, visitor, make_agent):
    maria, lee = make_agent("Maria"), make_agent("Lee")
    with app.app_context():
        conversations.assign_conversation(visitor.id, maria.identity)
        with pytest.raises(Forbidden):
            conversations.assign_conversation(visitor.id, lee.identity)
        with pytest.raises(Forbidden):
            conversations.assign_conversation(visitor.id, lee.identity, agent_id=lee.id)


def test_an_admin_assigns_to_another_agent(app, visitor, agent, admin):
    with app.app_context():
        assigned = conversations.assign_conversation(visitor.id, admin.identity, agent.id)
    assert assigned["agent"]["id"] == agent.id


@pytest.mark.parametrize("agent_id", ["1", True, 999, [1]])
def test_assigning_to_no_such_agent_is_invalid(app, visitor, admin, agent_id):
    with app.app_context(), pytest.raises(Invalid):
        conversations.assign_conversation(visitor.id, admin.identity, agent_id)


def test_an_agents_first_answer_to_a_waiting_conversation_takes_it(app, visitor, agent):
    _visitor_says(app, visitor, "hello?")
    with app.app_context():
        message, created = conversations.post_message(visitor.id, agent.identity, "Hi, Maria here")
    assert created and message["sender"] == "agent" and message["author"]["name"] == "Maria"
    page = _log(app, visitor)
    assert [(m["kind"], m["sender"]) for m in page.messages] == [
        ("text", "visitor"),
        ("status", "system"),
        ("text", "agent"),
    ]
    assert [m["seq"] for m in page.messages] == [1, 2, 3]
    assert page.conversation["status"] == "active"
    assert page.conversation["last_message"]["body"] == "Hi, Maria here"


def test_closing_is_idempotent_and_reopening_returns_to_the_assigned_agent(app, visitor, agent):
    with app.app_context():
        conversations.assign_conversation(visitor.id, agent.identity)
        closed = conversations.close_conversation(visitor.id, agent.identity)
        again = conversations.close_conversation(visitor.id, agent.identity)
    assert closed["status"] == again["status"] == "closed"
    assert again["last_seq"] == closed["last_seq"]
    _visitor_says(app, visitor, "one more thing")
    page = _log(app, visitor)
    assert page.messages[-1]["body"] == "The conversation was reopened."
    assert page.conversation["status"] == "active"
    assert page.conversation["agent"]["id"] == agent.id
    with app.app_context():
        conversations.close_conversation(visitor.id, agent.identity)
        with pytest.raises(Closed):
            conversations.post_message(visitor.id, agent.identity, "late")


def test_unread_counts_visitor_text_after_the_agents_read_mark(app, visitor, agent):
    with app.app_context():
        conversations.assign_conversation(visitor.id, agent.identity)
    for body in ("one", "two", "three"):
        last = _visitor_says(app, visitor, body)
    assert _log(app, visitor).conversation["unread"] == 3
    with app.app_context():
        read = presence.mark_read(visitor.id, agent.identity, last["seq"] - 1)
    assert (read["unread"], read["agent_read_seq"]) == (1, last["seq"] - 1)
    with app.app_context():
        read = presence.mark_read(visitor.id, agent.identity, last["seq"])
        back = presence.mark_read(visitor.id, agent.identity, 1)  # never moves back
    assert read["unread"] == back["unread"] == 0
    assert back["agent_read_seq"] == last["seq"]


def test_only_the_assigned_agent_moves_the_read_mark(app, visitor, make_agent):
    maria, lee = make_agent("Maria"), make_agent("Lee")
    _visitor_says(app, visitor, "hi")
    with app.app_context():
        conversations.assign_conversation(visitor.id, maria.identity)
        peeked = presence.mark_read(visitor.id, lee.identity, 2)
    assert peeked["unread"] == 1


def test_a_read_mark_past_the_log_is_invalid(app, visitor, agent):
    with app.app_context(), pytest.raises(Invalid):
        presence.mark_read(visitor.id, agent.identity, 5)


def test_a_read_mark_is_published_for_the_visitors_seen(app, visitor, agent, broker):
    _visitor_says(app, visitor, "hi")
    settle(broker)  # the message is not the news this test looks for
    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    try:
        with app.app_context():
            presence.mark_read(visitor.id, agent.identity, 1)
        item = subscription.get(timeout=5)
    finally:
        subscription.close()
    assert "message" not in item
    assert item["conversation"]["agent_read_seq"] == 1


def test_every_change_bumps_the_version(app, visitor, agent):
    versions = [visitor.conversation["version"]]
    _visitor_says(app, visitor, "hi")
    versions.append(_log(app, visitor).conversation["version"])
    with app.app_context():
        versions.append(conversations.assign_conversation(visitor.id, agent.identity)["version"])
        versions.append(presence.mark_read(visitor.id, agent.identity, 1)["version"])
        versions.append(conversations.close_conversation(visitor.id, agent.identity)["version"])
    assert versions == sorted(set(versions))


def test_typing_is_published_never_stored_and_throttled(app, visitor, agent, broker):
    from tests.conftest import stored_counts

    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    before = stored_counts(app)
    try:
        with app.app_context():
            for _ in range(3):
                presence.announce_typing(visitor.id, Visitor(visitor.token), True)
            presence.announce_typing(visitor.id, agent.identity, True)
            presence.announce_typing(visitor.id, Visitor(visitor.token), False)
        items = []
        while (item := subscription.get(timeout=0.2)) is not None:
            items.append(item["typing"])
    finally:
        subscription.close()
    assert [(t["sender"], t["name"], t["typing"]) for t in items] == [
        ("visitor", "Ada", True),
        ("agent", "Maria", True),
        ("visitor", "Ada", False),
    ]
    assert stored_counts(app) == before


def test_alternating_typing_and_stopped_is_bounded_by_the_burst_per_interval():
    now = [0.0]
    throttle = presence.TypingThrottle(interval=2.0, clock=lambda: now[0])  # burst: 4
    admitted = []
    for step in range(40):  # true, false, true, false … every 50 ms for two seconds
        now[0] = step * 0.05
        admitted.append(throttle.admit(7, "visitor", step % 2 == 0))
    assert admitted.count(True) == 4 and admitted[:4] == [True] * 4
    now[0] = 2.0
    assert throttle.admit(7, "visitor", True) is True  # the next window
    assert throttle.admit(7, "agent", True) is True  # each side has its own


def test_sending_and_typing_on_shows_typing_at_once():
    now = [0.0]
    throttle = presence.TypingThrottle(interval=2.0, clock=lambda: now[0])
    assert throttle.admit(7, "agent", True) is True
    now[0] = 0.5
    assert throttle.admit(7, "agent", True) is False  # the same news within the interval
    assert throttle.admit(7, "agent", False) is True  # sent: stopped
    now[0] = 0.6
    assert throttle.admit(7, "agent", True) is True  # typing the next one: news at once


@pytest.mark.parametrize("typing", [None, "yes", 1])
def test_typing_must_be_a_boolean(app, visitor, typing):
    with app.app_context(), pytest.raises(Invalid):
        presence.announce_typing(visitor.id, Visitor(visitor.token), typing)


def _racing(monkeypatch, app, name, competitor, module=conversations):
    """Run `competitor` (in another thread, as another request would) just before the
    domain's first call of <module>.<name>: between what it read and its write."""
    import threading

    original = getattr(module, name)
    raced = []

    def racing(*args, **kwargs):
        if not raced:
            raced.append(True)

            def other_request():
                with app.app_context():
                    competitor()

            thread = threading.Thread(target=other_request)
            thread.start()
            thread.join()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, racing)


def test_a_read_mark_racing_a_higher_one_never_moves_it_back(app, visitor, agent, monkeypatch):
    for body in ("one", "two", "three"):
        _visitor_says(app, visitor, body)
    _racing(
        monkeypatch,
        app,
        "_move_mark",
        lambda: presence.mark_read(visitor.id, agent.identity, 3),
        module=log_writer,
    )
    with app.app_context():
        read = presence.mark_read(visitor.id, agent.identity, 2)
    assert (read["agent_read_seq"], read["unread"]) == (3, 0)


def test_an_answer_racing_another_agents_join_names_the_agent_who_joined(
    app, visitor, make_agent, broker, monkeypatch
):
    maria, lee = make_agent("Maria"), make_agent("Lee")
    _visitor_says(app, visitor, "hello?")
    _racing(
        monkeypatch,
        app,
        "_take_seq",
        lambda: conversations.assign_conversation(visitor.id, maria.identity),
        module=log_writer,
    )
    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    try:
        with app.app_context():
            conversations.post_message(visitor.id, lee.identity, "I can help too")
        items = []
        while (item := subscription.get(timeout=0.2)) is not None:
            items.append(item)
    finally:
        subscription.close()
    assert items[-1]["message"]["body"] == "I can help too"
    assert items[-1]["conversation"]["agent"] == {"id": maria.id, "name": "Maria"}
    joined = [m["body"] for m in _log(app, visitor).messages if m["kind"] == "status"]
    assert joined == ["Maria joined the conversation."]


def test_each_sides_seen_mark_is_in_the_conversation(app, visitor, agent):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Oi")
        conversations.post_message(visitor.id, agent.identity, "Olá! Como posso ajudar?")
        seen = presence.mark_read(visitor.id, Visitor(visitor.token), 3)
        read = presence.mark_read(visitor.id, agent.identity, 1)
    # Seen implies delivered: a client shows only what it has.
    assert seen["marks"] == {
        "visitor": {"delivered": 3, "seen": 3},
        "agent": {"delivered": 0, "seen": 0},
    }
    assert read["marks"] == {
        "visitor": {"delivered": 3, "seen": 3},
        "agent": {"delivered": 1, "seen": 1},
    }

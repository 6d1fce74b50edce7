"""Private notes: agents' entries of the log that the visitor's view never holds, and the
@mentions in them."""

import json

import pytest
from sqlalchemy import select

from devtone.domain import conversations, notes, snapshots
from devtone.domain.models import Conversation
from devtone.domain.visitors import Visitor
from devtone.errors import Forbidden, Invalid
from tests.conftest import stored_counts


def _note(app, conversation_id, agent, body, client_id=None):
    with app.app_context():
        return conversations.post_message(conversation_id, agent.identity, body, client_id, "note")


def _say(app, visitor, body):
    with app.app_context():
        return conversations.post_message(visitor.id, Visitor(visitor.token), body)[0]


def _conversation(app, conversation_id, caller):
    with app.app_context():
        return conversations.get_conversation(conversation_id, caller)


def test_an_agents_note_is_an_entry_of_the_log_for_agents(app, visitor, agent):
    _say(app, visitor, "Hello?")
    note, created = _note(app, visitor.id, agent, "VIP customer, be nice", "n-1")
    assert created
    assert (note["seq"], note["kind"], note["sender"]) == (2, "note", "agent")
    assert note["author"] == {"name": "Maria"}
    with app.app_context():
        page = conversations.messages_after(visitor.id, agent.identity, 0)
    assert [(m["seq"], m["kind"]) for m in page.messages] == [(1, "text"), (2, "note")]


def test_a_retried_note_is_stored_once(app, visitor, agent):
    first, created = _note(app, visitor.id, agent, "Check the invoice", "n-1")
    again, created_again = _note(app, visitor.id, agent, "Check the invoice", "n-1")
    assert created and not created_again
    assert again == first
    assert _conversation(app, visitor.id, agent.identity)["last_seq"] == 1


def test_a_visitor_cannot_write_a_note_and_nothing_is_stored(app, visitor):
    _say(app, visitor, "Hi")
    before = stored_counts(app)
    with app.app_context(), pytest.raises(Forbidden) as refused:
        conversations.post_message(visitor.id, Visitor(visitor.token), "sneaky", "x", "note")
    assert refused.value.code == "notes_are_for_agents"
    assert stored_counts(app) == before


def test_an_unknown_kind_is_invalid(app, visitor, agent):
    with app.app_context(), pytest.raises(Invalid) as refused:
        conversations.post_message(visitor.id, agent.identity, "x", None, "status")
    assert refused.value.field == "kind"


def test_a_note_is_not_a_reply(app, visitor, agent):
    _say(app, visitor, "Anyone there?")
    before = _conversation(app, visitor.id, agent.identity)
    _note(app, visitor.id, agent, "Looks like a refund case")
    after = _conversation(app, visitor.id, agent.identity)
    # Still waiting and nobody's: the note took nothing, answered nothing.
    assert after["status"] == "waiting" and after["agent"] is None
    assert after["unread"] == before["unread"] == 1
    assert after["last_message"]["body"] == "Anyone there?"
    with app.app_context():
        row = conversations.db.session.get(Conversation, visitor.id)
        assert row.first_reply_at is None
        conversations.db.session.remove()


def test_a_note_in_a_closed_conversation_leaves_it_closed(app, visitor, agent):
    _say(app, visitor, "Thanks, bye")
    with app.app_context():
        conversations.close_conversation(visitor.id, agent.identity)
    note, _ = _note(app, visitor.id, agent, "Follow up next week")
    assert note["kind"] == "note"
    assert _conversation(app, visitor.id, agent.identity)["status"] == "closed"


def test_the_visitors_view_skips_notes_and_its_cursor_moves_past_them(app, visitor, agent):
    _say(app, visitor, "Hi")  # 1
    with app.app_context():
        conversations.post_message(visitor.id, agent.identity, "Hello!")  # 2 joined, 3 reply
    _note(app, visitor.id, agent, "<b>internal</b> ção")  # 4
    with app.app_context():
        page = conversations.messages_after(visitor.id, Visitor(visitor.token), 0)
        tail = conversations.messages_after(visitor.id, Visitor(visitor.token), 3)
    assert [m["seq"] for m in page.messages] == [1, 2, 3]
    assert all(m["kind"] != "note" for m in page.messages)
    # The cursor is past the note: the next read starts after it, and no gap shows.
    assert page.cursor == 4
    assert (tail.messages, tail.cursor) == ([], 4)
    with app.app_context():
        conversations.post_message(visitor.id, agent.identity, "Anything else?")  # 5
        after = conversations.messages_after(visitor.id, Visitor(visitor.token), page.cursor)
    assert [m["seq"] for m in after.messages] == [5]


def test_a_full_page_of_the_visitors_view_stops_at_its_last_entry(app, visitor, agent):
    for n in range(3):
        _say(app, visitor, f"m{n}")
    _note(app, visitor.id, agent, "later")
    with app.app_context():
        page = conversations.messages_after(visitor.id, Visitor(visitor.token), 0, limit=2)
    assert [m["seq"] for m in page.messages] == [1, 2]
    assert page.cursor == 2


def test_mentions_find_the_longest_agent_name_case_insensitively():
    agents = [(1, "Ana"), (2, "Ana Maria"), (3, "Lee"), (4, "João")]
    assert notes.mentioned("@ana maria, can you look?", agents) == {2}
    assert notes.mentioned("@Ana can you look?", agents) == {1}
    assert notes.mentioned("@LEE and @joão", agents) == {3, 4}
    # A longer word is another name; an address is no mention.
    assert notes.mentioned("@Leeroy", agents) == set()
    assert notes.mentioned("mail lee@example.com", agents) == set()
    assert notes.mentioned("no mention", agents) == set()


def test_a_mention_is_kept_for_the_agents_dashboard_only(app, visitor, make_agent):
    maria, ana_maria = make_agent("Maria"), make_agent("Ana Maria")
    _say(app, visitor, "Hi")
    note, _ = _note(app, visitor.id, maria, "@ana maria please check")
    with app.app_context():
        listed = snapshots.take_snapshot().conversations
        stored = conversations.db.session.scalar(
            select(Conversation.mentions).where(Conversation.id == visitor.id)
        )
        conversations.db.session.remove()
    assert json.loads(stored) == {str(ana_maria.id): note["seq"]}
    assert listed[0]["mentions"] == {str(ana_maria.id): note["seq"]}
    # The visitor's shape of the conversation never carries it.
    assert "mentions" not in _conversation(app, visitor.id, Visitor(visitor.token))

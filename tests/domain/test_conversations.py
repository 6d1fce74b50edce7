"""The domain: gapless seq under concurrent writers, idempotent posting, input rules."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from devtone.domain import conversations
from devtone.domain.models import Message
from devtone.domain.visitors import Visitor
from devtone.errors import Closed, Conflict, Invalid, NotFound
from devtone.extensions import db


def _post(app, visitor, body, client_id=None):
    with app.app_context():
        return conversations.post_message(visitor.id, Visitor(visitor.token), body, client_id)


def _stored_seqs(app, conversation_id):
    with app.app_context():
        seqs = db.session.scalars(
            select(Message.seq)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq)
        ).all()
        db.session.remove()
    return list(seqs)


def test_start_conversation_returns_a_token_that_opens_only_it(app, start_visitor):
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    assert ada.conversation["status"] == "waiting"
    assert ada.conversation["last_seq"] == 0
    with app.app_context():
        assert conversations.get_conversation(ada.id, Visitor(ada.token))["id"] == ada.id
        # Another conversation's token is told what a missing conversation is told.
        with pytest.raises(NotFound):
            conversations.get_conversation(ada.id, Visitor(bob.token))
        with pytest.raises(NotFound):
            conversations.get_conversation(ada.id + 100, Visitor(ada.token))


def test_seq_counts_one_two_three_per_conversation(app, start_visitor):
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    assert [_post(app, ada, f"a{n}")[0]["seq"] for n in range(3)] == [1, 2, 3]
    assert _post(app, bob, "b")[0]["seq"] == 1


def test_concurrent_writers_get_gapless_unique_seq(app, visitor):
    def post_many(worker):
        return [_post(app, visitor, f"{worker}-{n}")[0]["seq"] for n in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answered = [seq for seqs in pool.map(post_many, range(8)) for seq in seqs]

    assert sorted(answered) == list(range(1, 81))
    assert _stored_seqs(app, visitor.id) == list(range(1, 81))


def test_the_same_client_id_twice_stores_one_message(app, visitor):
    first, created = _post(app, visitor, "hello", "c-1")
    again, created_again = _post(app, visitor, "hello", "c-1")
    assert (created, created_again) == (True, False)
    assert again == first
    assert _stored_seqs(app, visitor.id) == [1]


def test_the_same_client_id_posted_concurrently_stores_one_message(app, visitor):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _post(app, visitor, "hi", "same-id"), range(8)))
    assert [created for _, created in answers].count(True) == 1
    assert {message["seq"] for message, _ in answers} == {1}
    assert _stored_seqs(app, visitor.id) == [1]


def test_a_client_id_is_scoped_to_its_conversation(app, start_visitor):
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    assert _post(app, ada, "x", "shared")[1] is True
    assert _post(app, bob, "x", "shared")[1] is True


def test_a_client_id_is_scoped_to_its_sender(app, visitor, agent):
    """An agent whose client_id happens to equal the visitor's gets their own message
    stored, not the visitor's back."""
    asked, _ = _post(app, visitor, "Where is my order?", "same-key")
    with app.app_context():
        answered, created = conversations.post_message(
            visitor.id, agent.identity, "It ships today.", "same-key"
        )
        replayed, created_again = conversations.post_message(
            visitor.id, agent.identity, "It ships today.", "same-key"
        )
    assert created is True and answered["sender"] == "agent"
    assert answered["body"] == "It ships today." and answered["seq"] != asked["seq"]
    assert (created_again, replayed) == (False, answered)
    # And the visitor's retry still gets the visitor's own message.
    assert _post(app, visitor, "Where is my order?", "same-key") == (asked, False)


def test_another_agents_client_id_is_a_conflict_not_their_message(app, visitor, make_agent):
    maria, joao = make_agent("Maria"), make_agent("João")
    with app.app_context():
        conversations.post_message(visitor.id, maria.identity, "Olá!", "agent-key")
        with pytest.raises(Conflict) as refused:
            conversations.post_message(visitor.id, joao.identity, "Bom dia!", "agent-key")
    assert refused.value.code == "client_id_taken"
    assert _stored_seqs(app, visitor.id) == [1, 2]  # the join and Maria's message


def test_closing_logs_a_status_entry_and_refuses_agent_messages(app, visitor, agent):
    _post(app, visitor, "before", "c-1")
    with app.app_context():
        closed = conversations.close_conversation(visitor.id, agent.identity)
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    with app.app_context(), pytest.raises(Closed):
        conversations.post_message(visitor.id, agent.identity, "after")
    # A retry of a message stored before the close still gets its answer (and does not
    # reopen the conversation).
    assert _post(app, visitor, "before", "c-1")[1] is False
    with app.app_context():
        page = conversations.messages_after(visitor.id, Visitor(visitor.token), 0)
    assert [(m["kind"], m["status"]) for m in page.messages] == [
        ("text", None),
        ("status", "closed"),
    ]


def test_messages_after_reads_from_the_cursor_in_pages(app, visitor):
    for n in range(5):
        _post(app, visitor, f"m{n}")
    with app.app_context():
        page = conversations.messages_after(visitor.id, Visitor(visitor.token), 1, limit=2)
    assert [m["seq"] for m in page.messages] == [2, 3]
    assert page.cursor == 3
    assert page.conversation["last_seq"] == 5
    with app.app_context():
        empty = conversations.messages_after(visitor.id, Visitor(visitor.token), 5)
    assert (empty.messages, empty.cursor) == ([], 5)


def test_the_conversation_shows_its_last_message_and_unread_count(app, visitor):
    _post(app, visitor, "one")
    _post(app, visitor, "two")
    with app.app_context():
        shown = conversations.get_conversation(visitor.id, Visitor(visitor.token))
    assert shown["last_message"]["body"] == "two"
    assert shown["unread"] == 2
    assert shown["last_seq"] == 2


@pytest.mark.parametrize(
    "body",
    [
        "<img src=x onerror=alert(1)>",
        "👩‍👩‍👧 family emoji with zero-width joiners",
        "שלום עולם — right to left",
        "zero\u200bwidth\u200cchars\u200d",
        "line one\nline two\n\ttabbed",
        "x" * 4000,
    ],
)
def test_text_round_trips_unchanged(app, visitor, body):
    stored, _ = _post(app, visitor, body)
    assert stored["body"] == body
    with app.app_context():
        page = conversations.messages_after(visitor.id, Visitor(visitor.token), 0)
    assert page.messages[0]["body"] == body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "blank"),
        ("   \n\t ", "blank"),
        ("\u200b\u200b", "blank"),
        ("x" * 4001, "too_long"),
        ("nul\x00byte", "invalid_text"),
        (None, "required"),
        (42, "required"),
    ],
)
def test_a_bad_body_is_refused_and_stores_nothing(app, visitor, body, code):
    with pytest.raises(Invalid) as refused:
        _post(app, visitor, body)
    assert (refused.value.field, refused.value.code) == ("body", code)
    assert _stored_seqs(app, visitor.id) == []


@pytest.mark.parametrize(
    ("name", "email", "field", "code"),
    [
        ("", None, "name", "blank"),
        ("  ", None, "name", "blank"),
        ("x" * 81, None, "name", "too_long"),
        ("two\nlines", None, "name", "invalid_text"),
        # Line breaks in an e-mail header too: the name goes into the To: of its e-mails.
        ("Ana\u2028Bia", None, "name", "invalid_text"),
        ("Ana\x85Bia", None, "name", "invalid_text"),
        ("Ada", "not-an-email", "email", "invalid_email"),
        ("Ada", "a@b@c", "email", "invalid_email"),
        ("Ada", 7, "email", "invalid_email"),
    ],
)
def test_a_bad_visitor_is_refused(app, name, email, field, code):
    with app.app_context(), pytest.raises(Invalid) as refused:
        conversations.start_conversation(name, email)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_the_name_may_be_80_characters_of_any_script(app):
    with app.app_context():
        conversation, _ = conversations.start_conversation("名" * 80, " Ada@Example.COM ")
    assert conversation["visitor"] == {"name": "名" * 80, "email": "Ada@example.com"}

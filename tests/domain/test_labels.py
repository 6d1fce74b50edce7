"""domain/labels.py: labels admins define, put on conversations by agents, each change an
entry of the log that agents read and visitors never do."""

import json

import pytest

from devtone.domain import conversations, labels
from devtone.domain.visitors import Visitor
from devtone.errors import Conflict, Forbidden, Invalid
from tests.conftest import stored_counts


@pytest.fixture
def team_labels(app, admin):
    with app.app_context():
        for name, colour in [("VIP", "teal"), ("Reembolso", "#ff8800"), ("bug", "red")]:
            labels.create_label(admin.identity, name, colour)


def test_admins_define_labels_and_agents_list_them_by_name(app, admin, team_labels):
    with app.app_context():
        listed = labels.list_labels()
    assert [(label["name"], label["colour"]) for label in listed] == [
        ("bug", "red"),
        ("Reembolso", "#ff8800"),
        ("VIP", "teal"),
    ]


def test_only_an_admin_defines_a_label(app, agent):
    with app.app_context(), pytest.raises(Forbidden):
        labels.create_label(agent.identity, "VIP", "teal")
        assert labels.list_labels() == []


def test_a_name_taken_in_any_case_is_a_conflict(app, admin, team_labels):
    with app.app_context(), pytest.raises(Conflict) as raised:
        labels.create_label(admin.identity, "vip", "blue")
    assert raised.value.code == "label_exists"


@pytest.mark.parametrize(
    "name, colour",
    [("", "teal"), ("x" * 41, "teal"), ("ok", "chartreuse"), ("ok", "#12345"), ("ok", None),
     ("two\nlines", "teal")],
)  # fmt: skip
def test_a_bad_name_or_colour_is_invalid(app, admin, name, colour):
    with app.app_context():
        with pytest.raises(Invalid):
            labels.create_label(admin.identity, name, colour)
        assert labels.list_labels() == []


def test_setting_labels_logs_what_changed_and_the_conversation_carries_them(
    app, agent, visitor, team_labels
):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Olá")
        shaped = labels.set_conversation_labels(visitor.id, agent.identity, ["vip", "bug"])
        assert shaped["labels"] == ["bug", "VIP"]
        shaped = labels.set_conversation_labels(visitor.id, agent.identity, ["VIP", "Reembolso"])
        assert shaped["labels"] == ["Reembolso", "VIP"]
        entries = conversations.messages_after(visitor.id, agent.identity, 0).messages
    changes = [json.loads(e["body"]) for e in entries if e["kind"] == "label"]
    assert changes == [
        {"added": ["bug", "VIP"], "removed": []},
        {"added": ["Reembolso"], "removed": ["bug"]},
    ]
    assert {e["author"]["name"] for e in entries if e["kind"] == "label"} == {"Maria"}


def test_the_same_set_again_logs_nothing(app, agent, visitor, team_labels):
    with app.app_context():
        labels.set_conversation_labels(visitor.id, agent.identity, ["VIP"])
        before = stored_counts(app)
        labels.set_conversation_labels(visitor.id, agent.identity, ["vip"])
    assert stored_counts(app) == before


@pytest.mark.parametrize("names", [["VIP", "nope"], "VIP", [1], ["x"] * 21])
def test_an_unknown_label_or_bad_list_changes_nothing(app, agent, visitor, team_labels, names):
    before = stored_counts(app)
    with app.app_context():
        with pytest.raises(Invalid) as raised:
            labels.set_conversation_labels(visitor.id, agent.identity, names)
        assert conversations.get_conversation(visitor.id, agent.identity)["labels"] == []
    assert raised.value.field == "labels"
    assert stored_counts(app) == before


def test_an_unknown_label_is_named_by_its_code(app, agent, visitor, team_labels):
    with app.app_context(), pytest.raises(Invalid) as raised:
        labels.set_conversation_labels(visitor.id, agent.identity, ["nope"])
    assert raised.value.code == "unknown_label"


def test_the_visitor_reads_neither_label_entries_nor_labels_and_their_cursor_skips_them(
    app, agent, visitor, team_labels
):
    me = Visitor(visitor.token)
    with app.app_context():
        conversations.post_message(visitor.id, me, "Olá")
        labels.set_conversation_labels(visitor.id, agent.identity, ["VIP"])
        page = conversations.messages_after(visitor.id, me, 0)
        assert [m["body"] for m in page.messages] == ["Olá"]
        assert page.cursor == 2  # past the label entry: no gap to read again
        assert "labels" not in page.conversation
        assert "labels" not in conversations.get_conversation(visitor.id, me)
        conversations.post_message(visitor.id, me, "Ainda aí?")
        after = conversations.messages_after(visitor.id, me, page.cursor)
        assert [m["seq"] for m in after.messages] == [3]


def test_notes_and_label_changes_together_leave_the_visitor_no_gap(
    app, agent, visitor, team_labels
):
    me = Visitor(visitor.token)
    with app.app_context():
        conversations.post_message(visitor.id, me, "Olá")
        conversations.post_message(visitor.id, agent.identity, "cliente antigo", None, "note")
        labels.set_conversation_labels(visitor.id, agent.identity, ["VIP"])
        conversations.post_message(visitor.id, me, "Alguém aí?")
        page = conversations.messages_after(visitor.id, me, 0)
        agents_page = conversations.messages_after(visitor.id, agent.identity, 0)
    assert [(m["seq"], m["kind"]) for m in page.messages] == [(1, "text"), (4, "text")]
    assert page.cursor == 4
    assert [m["kind"] for m in agents_page.messages] == ["text", "note", "label", "text"]

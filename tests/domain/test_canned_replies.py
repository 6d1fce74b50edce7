"""domain/canned_replies.py: who sees and keeps which replies, and what a reply may be."""

import pytest

from devtone.domain import canned_replies
from devtone.errors import Conflict, Forbidden, Invalid, NotFound


def _shortcuts(agent):
    return [
        (r["shortcut"], r["shared"], r["editable"]) for r in canned_replies.visible_replies(agent)
    ]


def test_an_agent_sees_the_team_replies_and_their_own_and_keeps_only_their_own(app, make_agent):
    boss, maria = make_agent("Boss", "admin").identity, make_agent("Maria").identity
    with app.app_context():
        team = canned_replies.create_reply(boss, {"shortcut": "hi", "text": "Hi!", "shared": True})
        canned_replies.create_reply(maria, {"shortcut": "hi", "text": "Oi!"})
        assert _shortcuts(maria) == [("hi", True, False), ("hi", False, True)]
        assert _shortcuts(boss) == [("hi", True, True)]
        with pytest.raises(Forbidden):
            canned_replies.change_reply(maria, team["id"], {"text": "Hello"})
        with pytest.raises(Forbidden):
            canned_replies.delete_reply(maria, team["id"])
        with pytest.raises(Forbidden):
            canned_replies.create_reply(maria, {"shortcut": "x", "text": "y", "shared": True})


def test_another_agents_reply_is_not_found(app, make_agent):
    maria, joana = make_agent("Maria").identity, make_agent("Joana").identity
    with app.app_context():
        mine = canned_replies.create_reply(maria, {"shortcut": "hi", "text": "Oi!"})
        with pytest.raises(NotFound):
            canned_replies.change_reply(joana, mine["id"], {"text": "mine now"})
        with pytest.raises(NotFound):
            canned_replies.delete_reply(joana, mine["id"])
        assert _shortcuts(joana) == []


def test_a_duplicate_shortcut_in_the_same_scope_is_a_conflict_and_changes_nothing(app, agent):
    with app.app_context():
        canned_replies.create_reply(agent.identity, {"shortcut": "hi", "text": "Oi!"})
        with pytest.raises(Conflict) as refused:
            canned_replies.create_reply(agent.identity, {"shortcut": "/HI", "text": "Again"})
        assert refused.value.code == "shortcut_taken"
        assert [r["text"] for r in canned_replies.visible_replies(agent.identity)] == ["Oi!"]


def test_what_is_left_out_of_a_change_stays(app, agent):
    with app.app_context():
        reply = canned_replies.create_reply(agent.identity, {"shortcut": "hi", "text": "Oi!"})
        changed = canned_replies.change_reply(agent.identity, reply["id"], {"text": "Olá!"})
    assert (changed["shortcut"], changed["text"]) == ("hi", "Olá!")


@pytest.mark.parametrize(
    ("text", "kept"),
    [("  Olá, {visitor.name}!  ", "Olá, {visitor.name}!"), ("<b>x</b>", "<b>x</b>")],
)
def test_a_text_is_kept_as_written_trimmed(text, kept):
    assert canned_replies.clean_text(text) == kept


@pytest.mark.parametrize("text", ["", " \u200b ", None, 5, "x" * 4001, "bell\x07"])
def test_a_text_that_could_not_be_a_message_is_refused_naming_text(text):
    with pytest.raises(Invalid) as refused:
        canned_replies.clean_text(text)
    assert refused.value.field == "text"

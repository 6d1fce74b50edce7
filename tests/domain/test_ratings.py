"""domain/ratings.py: the visitor rates each closing 1-5, once; the statistics."""

from datetime import timedelta

import pytest

from devtone.domain import conversations, ratings, snapshots
from devtone.domain.models import utcnow
from devtone.domain.visitors import Visitor
from devtone.errors import BadRequest, Conflict, Forbidden, NotFound


def _closed(app, visitor, agent, body="Help, please"):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), body)
        conversations.post_message(visitor.id, agent.identity, "Done, anything else?")
        return conversations.close_conversation(visitor.id, agent.identity)


def test_a_closed_conversation_carries_the_visitors_rating(app, visitor, agent):
    closed = _closed(app, visitor, agent)
    assert closed["rating"] is None
    with app.app_context():
        rated = ratings.rate_conversation(visitor.id, Visitor(visitor.token), 5, "  Quick! ")
        assert rated["rating"]["score"] == 5
        assert rated["rating"]["comment"] == "Quick!"
        assert rated["version"] == closed["version"] + 1
        shown = conversations.get_conversation(visitor.id, agent.identity)
    assert shown["rating"] == rated["rating"]


def test_a_closing_is_rated_once(app, visitor, agent):
    _closed(app, visitor, agent)
    with app.app_context():
        ratings.rate_conversation(visitor.id, Visitor(visitor.token), 4)
        with pytest.raises(Conflict) as refused:
            ratings.rate_conversation(visitor.id, Visitor(visitor.token), 1, "changed my mind")
        assert refused.value.code == "already_rated"
        assert conversations.get_conversation(visitor.id, agent.identity)["rating"]["score"] == 4


def test_a_reopened_conversation_closed_again_can_be_rated_again(app, visitor, agent):
    _closed(app, visitor, agent)
    with app.app_context():
        ratings.rate_conversation(visitor.id, Visitor(visitor.token), 2)
        conversations.post_message(visitor.id, Visitor(visitor.token), "One more thing")
        reopened = conversations.get_conversation(visitor.id, agent.identity)
        assert reopened["status"] == "active" and reopened["rating"] is None
        conversations.close_conversation(visitor.id, agent.identity)
        again = ratings.rate_conversation(visitor.id, Visitor(visitor.token), 5)
    assert again["rating"]["score"] == 5


def test_an_open_conversation_cannot_be_rated(app, visitor):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hello")
        with pytest.raises(Conflict) as refused:
            ratings.rate_conversation(visitor.id, Visitor(visitor.token), 5)
    assert refused.value.code == "conversation_open"


def test_only_the_conversations_visitor_rates_it(app, visitor, start_visitor, agent):
    other = start_visitor("Grace")
    _closed(app, visitor, agent)
    with app.app_context():
        with pytest.raises(NotFound):
            ratings.rate_conversation(visitor.id, Visitor(other.token), 5)
        with pytest.raises(Forbidden):
            ratings.rate_conversation(visitor.id, agent.identity, 5)
        assert conversations.get_conversation(visitor.id, agent.identity)["rating"] is None


@pytest.mark.parametrize("score", [0, 6, 4.5, "5", True, None, -1])
def test_a_score_outside_one_to_five_is_refused(score):
    with pytest.raises(BadRequest) as refused:
        ratings.clean_score(score)
    assert refused.value.field == "score"


@pytest.mark.parametrize(
    ("comment", "kept"),
    [(None, None), ("   ", None), ("Ótimo atendimento 👍", "Ótimo atendimento 👍"),
     ("<b>ok</b>", "<b>ok</b>"), ("x" * 1000, "x" * 1000)],
)  # fmt: skip
def test_a_comment_is_optional_text(comment, kept):
    assert ratings.clean_comment(comment) == kept


@pytest.mark.parametrize("comment", ["x" * 1001, 5, ["no"], "nul\x00"])
def test_a_bad_comment_is_refused(comment):
    with pytest.raises(BadRequest) as refused:
        ratings.clean_comment(comment)
    assert refused.value.field == "comment"


def test_the_statistics_average_today_the_week_and_each_agent(
    app, start_visitor, make_agent, monkeypatch
):
    maria, joana = make_agent("Maria"), make_agent("Joana")
    scores = [(maria, 5), (maria, 3), (joana, 4)]
    for agent, score in scores:
        visitor = start_visitor()
        _closed(app, visitor, agent)
        with app.app_context():
            ratings.rate_conversation(visitor.id, Visitor(visitor.token), score)
    with app.app_context():
        now = snapshots.stats()["ratings"]
    # One rating four days on: seen from then, today's; the others are in its week.
    visitor = start_visitor()
    _closed(app, visitor, joana)
    monkeypatch.setattr(ratings, "utcnow", lambda: utcnow() + timedelta(days=4))
    with app.app_context():
        ratings.rate_conversation(visitor.id, Visitor(visitor.token), 1)
        later = snapshots.stats(utcnow() + timedelta(days=4))["ratings"]
    assert now["today"] == {"count": 3, "average": 4.0}
    assert now["week"] == {"count": 3, "average": 4.0}
    assert later["today"] == {"count": 1, "average": 1.0}
    assert later["week"] == {"count": 4, "average": 3.25}
    assert later["agents"] == [
        {"agent_id": joana.id, "name": "Joana", "count": 2, "average": 2.5},
        {"agent_id": maria.id, "name": "Maria", "count": 2, "average": 4.0},
    ]


def test_no_ratings_yet_is_no_average(app):
    with app.app_context():
        figures = snapshots.stats()["ratings"]
    assert figures == {
        "today": {"count": 0, "average": None},
        "week": {"count": 0, "average": None},
        "agents": [],
    }

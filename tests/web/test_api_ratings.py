"""POST /api/conversations/<id>/rating: the visitor rates each closing once (CSAT)."""

import pytest

from devtone.domain import announce, conversations
from devtone.domain.visitors import Visitor
from tests.conftest import settle, stored_counts


def _close(app, visitor, agent):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "My order is late")
        conversations.post_message(visitor.id, agent.identity, "It ships today.")
        conversations.close_conversation(visitor.id, agent.identity)


def _rate(client, visitor, body, headers=None):
    return client.post(
        f"/api/conversations/{visitor.id}/rating",
        json=body,
        headers=visitor.headers if headers is None else headers,
    )


def test_the_visitor_rates_a_closed_conversation_and_the_agent_sees_it(
    app, client, visitor, agent, sign_in
):
    _close(app, visitor, agent)
    rated = _rate(client, visitor, {"score": 4, "comment": "Obrigada <3"})
    assert rated.status_code == 201, rated.get_data()[:300]
    rating = rated.get_json()["conversation"]["rating"]
    assert rating["score"] == 4 and rating["comment"] == "Obrigada <3"
    seen = sign_in(agent).get(f"/api/conversations/{visitor.id}").get_json()["conversation"]
    assert seen["rating"] == rating
    own = client.get(f"/api/conversations/{visitor.id}", headers=visitor.headers)
    assert own.get_json()["conversation"]["rating"] == rating


def test_the_rating_is_in_the_dashboard_snapshot_and_its_statistics(
    app, client, visitor, agent, sign_in
):
    _close(app, visitor, agent)
    _rate(client, visitor, {"score": 5})
    snapshot = sign_in(agent).get("/api/dashboard/snapshot").get_json()
    listed = next(c for c in snapshot["conversations"] if c["id"] == visitor.id)
    assert listed["rating"]["score"] == 5
    figures = snapshot["stats"]["ratings"]
    assert figures["today"] == {"count": 1, "average": 5.0}
    assert figures["agents"] == [
        {"agent_id": agent.id, "name": agent.identity.name, "count": 1, "average": 5.0}
    ]


def test_a_second_rating_of_the_same_closing_is_409(app, client, visitor, agent):
    _close(app, visitor, agent)
    assert _rate(client, visitor, {"score": 2}).status_code == 201
    before = stored_counts(app)
    again = _rate(client, visitor, {"score": 5})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_rated"
    assert stored_counts(app) == before


def test_an_open_conversation_is_409_conversation_open(app, client, visitor):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hello?")
    before = stored_counts(app)
    answer = _rate(client, visitor, {"score": 5})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "conversation_open"
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "5"}, "score"),
        ({"score": 3.5}, "score"),
        ({}, "score"),
        ({"score": 3, "comment": "x" * 1001}, "comment"),
        ({"score": 3, "comment": 7}, "comment"),
    ],
)
def test_a_bad_score_or_comment_is_400_and_stores_nothing(app, client, visitor, agent, body, field):
    _close(app, visitor, agent)
    before = stored_counts(app)
    answer = _rate(client, visitor, body)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field
    assert stored_counts(app) == before


def test_without_a_token_is_401_and_a_malformed_one_too(app, client, visitor, agent):
    _close(app, visitor, agent)
    assert _rate(client, visitor, {"score": 5}, headers={}).status_code == 401
    malformed = {"Authorization": "Bearer not-a-token"}
    assert _rate(client, visitor, {"score": 5}, headers=malformed).status_code == 401


def test_another_visitors_token_is_told_there_is_no_such_conversation(
    app, client, visitor, start_visitor, agent
):
    stranger = start_visitor("Grace")
    _close(app, visitor, agent)
    answer = _rate(client, visitor, {"score": 1}, headers=stranger.headers)
    assert answer.status_code == 404
    assert _rate(client, visitor, {"score": 5}).status_code == 201  # still the visitor's


def test_an_agent_cannot_rate(app, visitor, agent, sign_in):
    _close(app, visitor, agent)
    answer = sign_in(agent).post(f"/api/conversations/{visitor.id}/rating", json={"score": 5})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "visitors_only"


def test_the_rating_is_announced_as_a_change_of_the_conversation(
    app, client, visitor, agent, broker
):
    _close(app, visitor, agent)
    settle(broker)
    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    try:
        rated = _rate(client, visitor, {"score": 3}).get_json()["conversation"]
        heard = subscription.get(timeout=5)
    finally:
        subscription.close()
    assert "message" not in heard  # not an entry of the log: no seq for anyone to skip
    assert heard["conversation"]["rating"]["score"] == 3
    assert heard["conversation"]["version"] == rated["version"]


def test_pt_br_visitors_read_the_refusal_in_portuguese(app, client, visitor, agent):
    _close(app, visitor, agent)
    headers = {**visitor.headers, "Accept-Language": "pt-BR"}
    answer = _rate(client, visitor, {"score": 9}, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == "Dê uma nota de 1 a 5."

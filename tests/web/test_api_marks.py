"""POST /api/conversations/<id>/marks: each side's delivered and seen marks (DESIGN.md §7)."""

import pytest

from devtone.domain import announce, conversations
from devtone.domain.visitors import Visitor
from tests.conftest import settle, stored_counts


def _says(app, visitor, who, *bodies):
    with app.app_context():
        for body in bodies:
            conversations.post_message(visitor.id, who, body)


def _marks(answer, side):
    assert answer.status_code == 200, answer.get_data()[:300]
    return answer.get_json()["conversation"]["marks"][side]


def test_the_visitor_moves_their_own_sides_marks_forward(app, client, visitor):
    _says(app, visitor, Visitor(visitor.token), "one", "two", "three")
    path = f"/api/conversations/{visitor.id}/marks"
    moved = client.post(path, json={"delivered": 3, "seen": 1}, headers=visitor.headers)
    assert _marks(moved, "visitor") == {"delivered": 3, "seen": 1}
    assert _marks(moved, "agent") == {"delivered": 0, "seen": 0}
    # Never back: a lower or equal mark leaves both where they are.
    back = client.post(path, json={"delivered": 1, "seen": 0}, headers=visitor.headers)
    assert _marks(back, "visitor") == {"delivered": 3, "seen": 1}


def test_seen_implies_delivered(app, client, visitor):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    path = f"/api/conversations/{visitor.id}/marks"
    seen = client.post(path, json={"seen": 2}, headers=visitor.headers)
    assert _marks(seen, "visitor") == {"delivered": 2, "seen": 2}


def test_either_mark_may_come_alone(app, client, visitor):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    path = f"/api/conversations/{visitor.id}/marks"
    delivered = client.post(path, json={"delivered": 2}, headers=visitor.headers)
    assert _marks(delivered, "visitor") == {"delivered": 2, "seen": 0}
    seen = client.post(path, json={"seen": 1}, headers=visitor.headers)
    assert _marks(seen, "visitor") == {"delivered": 2, "seen": 1}


def test_the_agent_moves_the_agent_side_and_the_unread_count(app, visitor, agent, sign_in):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    maria = sign_in(agent)
    path = f"/api/conversations/{visitor.id}/marks"
    delivered = maria.post(path, json={"delivered": 2})
    assert _marks(delivered, "agent") == {"delivered": 2, "seen": 0}
    assert delivered.get_json()["conversation"]["unread"] == 2  # delivered is not read
    seen = maria.post(path, json={"seen": 1})
    assert _marks(seen, "agent") == {"delivered": 2, "seen": 1}
    assert seen.get_json()["conversation"]["unread"] == 1
    assert _marks(seen, "visitor") == {"delivered": 0, "seen": 0}


def test_read_still_means_seen(app, client, visitor):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    read = client.post(
        f"/api/conversations/{visitor.id}/read", json={"seq": 2}, headers=visitor.headers
    )
    assert _marks(read, "visitor") == {"delivered": 2, "seen": 2}


@pytest.mark.parametrize(
    ("marks", "field"),
    [({"delivered": 3}, "delivered"), ({"seen": 3}, "seen"), ({"delivered": 1, "seen": 9}, "seen")],
)
def test_a_mark_past_the_last_seq_is_422_and_moves_nothing(app, client, visitor, marks, field):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id}/marks", json=marks, headers=visitor.headers
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "seen"),
        ({"delivered": "1"}, "delivered"),
        ({"seen": -1}, "seen"),
        ({"seen": 10**30}, "seen"),
        ({"seen": 1.0}, "seen"),
        ({"seen": True}, "seen"),
        ({"delivered": None}, "delivered"),
        ({"read": 1}, "read"),
    ],
)
def test_bad_marks_are_422(app, client, visitor, body, field):
    _says(app, visitor, Visitor(visitor.token), "one")
    answer = client.post(
        f"/api/conversations/{visitor.id}/marks", json=body, headers=visitor.headers
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field


def test_another_conversations_token_moves_nothing(app, client, start_visitor):
    ada, eve = start_visitor("Ada"), start_visitor("Eve")
    _says(app, ada, Visitor(ada.token), "one")
    answer = client.post(
        f"/api/conversations/{ada.id}/marks", json={"seen": 1}, headers=eve.headers
    )
    assert answer.status_code == 404
    assert client.post(f"/api/conversations/{ada.id}/marks", json={"seen": 1}).status_code == 401


def test_another_agents_conversation_keeps_its_marks(app, visitor, make_agent, sign_in):
    maria, lee = make_agent("Maria"), make_agent("Lee")
    _says(app, visitor, Visitor(visitor.token), "one")
    with app.app_context():
        conversations.assign_conversation(visitor.id, maria.identity)
    peeked = sign_in(lee).post(f"/api/conversations/{visitor.id}/marks", json={"seen": 2})
    assert _marks(peeked, "agent") == {"delivered": 0, "seen": 0}


def test_each_move_is_announced_with_a_newer_version_and_a_still_mark_is_not(
    app, client, visitor, broker
):
    _says(app, visitor, Visitor(visitor.token), "one", "two")
    settle(broker)  # the posts are not the news this test looks for
    subscription = broker.subscribe([announce.conversation_channel(visitor.id)])
    path = f"/api/conversations/{visitor.id}/marks"
    try:
        first = client.post(path, json={"delivered": 2}, headers=visitor.headers)
        client.post(path, json={"delivered": 1}, headers=visitor.headers)  # would move back
        second = client.post(path, json={"seen": 2}, headers=visitor.headers)
        heard = []
        while (item := subscription.get(timeout=0.5)) is not None:
            heard.append(item["conversation"])
    finally:
        subscription.close()
    assert [c["marks"]["visitor"] for c in heard] == [
        {"delivered": 2, "seen": 0},
        {"delivered": 2, "seen": 2},
    ]
    versions = [
        first.get_json()["conversation"]["version"],
        second.get_json()["conversation"]["version"],
    ]
    assert [c["version"] for c in heard] == versions == sorted(set(versions))

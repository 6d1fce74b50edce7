"""GET/POST /api/labels and PUT /api/conversations/<id>/labels: admins define labels,
agents set a conversation's, and visitors never see them."""

import pytest

from devtone.domain import conversations, labels
from devtone.domain.visitors import Visitor
from tests.conftest import ON_SQLITE, stored_counts

pytestmark = ON_SQLITE


@pytest.fixture
def vip(app, admin):
    with app.app_context():
        return labels.create_label(admin.identity, "VIP", "teal")


def test_an_admin_creates_a_label_and_agents_list_it(app, admin, agent, sign_in):
    created = sign_in(admin).post("/api/labels", json={"name": "Urgente", "colour": "red"})
    assert created.status_code == 201, created.get_data()
    assert created.get_json()["label"]["name"] == "Urgente"
    listed = sign_in(agent).get("/api/labels").get_json()["labels"]
    assert [label["name"] for label in listed] == ["Urgente"]


def test_an_agent_may_not_create_a_label(app, agent, sign_in):
    answer = sign_in(agent).post("/api/labels", json={"name": "Urgente", "colour": "red"})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "admins_only"


def test_a_duplicate_name_is_409(app, admin, sign_in, vip):
    answer = sign_in(admin).post("/api/labels", json={"name": "vip", "colour": "blue"})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "label_exists"


def test_a_name_whose_folded_form_is_too_long_is_422_and_stores_nothing(app, admin, sign_in):
    # 40 × "ß" is 40 characters, but its key (casefolded) is 80 "s": PostgreSQL's
    # varchar(40) refused it with a 500.
    before = stored_counts(app)
    answer = sign_in(admin).post("/api/labels", json={"name": "ß" * 40, "colour": "red"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "too_long"
    assert stored_counts(app) == before
    assert sign_in(admin).get("/api/labels").get_json()["labels"] == []


def test_visitors_and_strangers_may_not_read_labels(app, client, visitor, vip):
    assert client.get("/api/labels").status_code == 401
    assert client.get("/api/labels", headers=visitor.headers).status_code == 403


def test_an_agent_sets_a_conversations_labels(app, agent, sign_in, visitor, vip):
    answer = sign_in(agent).put(f"/api/conversations/{visitor.id}/labels", json={"labels": ["vip"]})
    assert answer.status_code == 200, answer.get_data()
    assert answer.get_json()["conversation"]["labels"] == ["VIP"]


def test_an_unknown_label_is_422_and_changes_nothing(app, agent, sign_in, visitor, vip):
    before = stored_counts(app)
    answer = sign_in(agent).put(
        f"/api/conversations/{visitor.id}/labels", json={"labels": ["VIP", "<b>x</b>"]}
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "unknown_label"
    assert stored_counts(app) == before


def test_a_visitor_may_not_set_labels(app, client, visitor, vip):
    answer = client.put(
        f"/api/conversations/{visitor.id}/labels", json={"labels": ["VIP"]},
        headers=visitor.headers,
    )  # fmt: skip
    assert answer.status_code == 403


def test_the_label_change_is_in_the_agents_log_not_the_visitors(
    app, client, agent, sign_in, visitor, vip
):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Oi")
    maria = sign_in(agent)
    maria.put(f"/api/conversations/{visitor.id}/labels", json={"labels": ["VIP"]})
    path = f"/api/conversations/{visitor.id}/messages?after=0"
    agents_view = maria.get(path).get_json()
    assert [m["kind"] for m in agents_view["messages"]] == ["text", "label"]
    assert agents_view["conversation"]["labels"] == ["VIP"]
    visitors_view = client.get(path, headers=visitor.headers).get_json()
    assert [m["kind"] for m in visitors_view["messages"]] == ["text"]
    assert visitors_view["cursor"] == 2
    assert "labels" not in visitors_view["conversation"]


def test_no_answer_a_visitor_gets_carries_the_labels(app, client, agent, sign_in, visitor, vip):
    # The review found /read, /marks and /rating answering the visitor with the labels.
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Oi")
    maria = sign_in(agent)
    maria.put(f"/api/conversations/{visitor.id}/labels", json={"labels": ["VIP"]})
    base = f"/api/conversations/{visitor.id}"
    answers = {
        "conversation": client.get(base, headers=visitor.headers),
        "read": client.post(f"{base}/read", json={"seq": 1}, headers=visitor.headers),
        "marks": client.post(f"{base}/marks", json={"delivered": 2}, headers=visitor.headers),
    }
    maria.post(f"{base}/close")
    answers["rating"] = client.post(f"{base}/rating", json={"score": 5}, headers=visitor.headers)
    for name, answer in answers.items():
        assert answer.status_code in (200, 201), (name, answer.get_data())
        assert "labels" not in answer.get_json()["conversation"], name
    assert maria.get(base).get_json()["conversation"]["labels"] == ["VIP"]

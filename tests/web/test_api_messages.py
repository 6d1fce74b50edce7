"""POST/GET …/messages: posting, idempotent retries, cursor reads, and bad input."""

import uuid

import pytest

from devtone.domain import conversations
from tests.conftest import stored_counts


def _post(client, visitor, body, client_id=None):
    payload = {"body": body, "client_id": client_id or str(uuid.uuid4())}
    return client.post(
        f"/api/conversations/{visitor.id}/messages",
        json=payload,
        headers=visitor.headers,
    )


def test_posting_stores_the_message_with_the_next_seq(client, visitor):
    answer = _post(client, visitor, "Hello!")
    assert answer.status_code == 201
    message = answer.get_json()["message"]
    assert message["seq"] == 1
    assert message["sender"] == "visitor"
    assert message["author"] == {"name": "Ada"}
    assert message["kind"] == "text"
    assert message["created_at"].endswith("Z")


def test_the_same_client_id_again_answers_200_with_the_stored_message(client, visitor):
    first = _post(client, visitor, "once", "a2f1c1d0-0000-4000-8000-000000000001")
    again = _post(client, visitor, "once", "a2f1c1d0-0000-4000-8000-000000000001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    listed = client.get(f"/api/conversations/{visitor.id}/messages", headers=visitor.headers)
    assert len(listed.get_json()["messages"]) == 1


def test_messages_after_a_cursor(client, visitor):
    for n in range(4):
        _post(client, visitor, f"m{n}")
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=2", headers=visitor.headers
    )
    body = answer.get_json()
    assert [m["seq"] for m in body["messages"]] == [3, 4]
    assert body["cursor"] == 4
    assert body["conversation"]["last_seq"] == 4


def test_the_limit_pages_through_the_log(client, visitor):
    for n in range(5):
        _post(client, visitor, f"m{n}")
    url = f"/api/conversations/{visitor.id}/messages?after=0&limit=2"
    body = client.get(url, headers=visitor.headers).get_json()
    assert ([m["seq"] for m in body["messages"]], body["cursor"]) == ([1, 2], 2)


def test_the_messages_get_accepts_the_token_in_the_query_for_long_poll(client, visitor):
    answer = client.get(f"/api/conversations/{visitor.id}/messages?token={visitor.token}")
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "<img src=x onerror=alert(1)>",
        "🙂👍🏽",
        "مرحبا بالعالم",
        "a\u200bb\u200dc\ufeff",
    ],
)
def test_text_round_trips_unchanged_through_the_api(client, visitor, body):
    assert _post(client, visitor, body).get_json()["message"]["body"] == body
    listed = client.get(f"/api/conversations/{visitor.id}/messages", headers=visitor.headers)
    assert listed.get_json()["messages"][0]["body"] == body


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"body": "", "client_id": "c1"}, 422, "blank", "body"),
        ({"body": "  \n\t  ", "client_id": "c1"}, 422, "blank", "body"),
        ({"body": "x" * 4001, "client_id": "c1"}, 422, "too_long", "body"),
        ({"client_id": "c1"}, 422, "required", "body"),
        ({"body": ["list"], "client_id": "c1"}, 422, "required", "body"),
        (
            {"body": "hi", "client_id": "has spaces"},
            422,
            "invalid_client_id",
            "client_id",
        ),
        ({"body": "hi", "client_id": "x" * 65}, 422, "invalid_client_id", "client_id"),
        ({"body": "hi", "client_id": 12}, 422, "invalid_client_id", "client_id"),
        ("just a string", 400, "invalid_json", None),
    ],
)
def test_a_bad_message_is_refused_and_stores_nothing(
    app, client, visitor, payload, status, code, field
):
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        json=payload,
        headers=visitor.headers,
    )
    assert answer.status_code == status
    assert answer.get_json()["error"] == {
        "code": code,
        "message": answer.get_json()["error"]["message"],
        "field": field,
    }
    assert stored_counts(app) == before


def test_a_message_that_is_not_json_is_refused_with_415(app, client, visitor):
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        data="body=hi",
        headers={**visitor.headers, "Content-Type": "text/plain"},
    )
    assert answer.status_code == 415
    assert stored_counts(app) == before


def test_a_message_body_over_16_kib_is_refused_with_413(app, client, visitor):
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        data='{"body": "' + "x" * 17000 + '"}',
        headers={**visitor.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Bearer not-a-token"}, 401, "invalid_token"),
        ({"Authorization": "Bearer " + "B" * 43}, 404, "not_found"),
    ],
)
def test_posting_without_the_right_token_stores_nothing(
    app, client, visitor, headers, status, code
):
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "hi", "client_id": "c1"},
        headers=headers,
    )
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)
    assert stored_counts(app) == before


def test_posting_with_another_conversations_token_stores_nothing(app, client, start_visitor):
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{ada.id}/messages",
        json={"body": "hi", "client_id": "c1"},
        headers=bob.headers,
    )
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "not_found")
    assert stored_counts(app) == before


def test_posting_to_an_unknown_conversation_is_404(app, client, visitor):
    before = stored_counts(app)
    answer = client.post(
        f"/api/conversations/{visitor.id + 99}/messages",
        json={"body": "hi", "client_id": "c1"},
        headers=visitor.headers,
    )
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (
        404,
        "not_found",
    )
    assert stored_counts(app) == before


def test_an_agent_writing_to_a_closed_conversation_gets_409(app, visitor, agent, sign_in):
    maria = sign_in(agent)
    assert maria.post(f"/api/conversations/{visitor.id}/close").status_code == 200
    before = stored_counts(app)
    answer = maria.post(f"/api/conversations/{visitor.id}/messages", json={"body": "anyone there?"})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "conversation_closed"
    assert stored_counts(app) == before


def test_an_agents_retry_after_the_close_answers_with_the_stored_message(
    app, visitor, agent, sign_in
):
    maria = sign_in(agent)
    sent = {"body": "we are on it", "client_id": "answer-1"}
    path = f"/api/conversations/{visitor.id}/messages"
    first = maria.post(path, json=sent)
    assert first.status_code == 201
    assert maria.post(f"/api/conversations/{visitor.id}/close").status_code == 200
    before = stored_counts(app)
    retry = maria.post(path, json=sent)  # its first answer was lost on the way
    assert retry.status_code == 200
    assert retry.get_json()["message"] == first.get_json()["message"]
    assert stored_counts(app) == before


def test_a_visitor_writing_to_a_closed_conversation_reopens_it(app, client, visitor, agent):
    with app.app_context():
        conversations.close_conversation(visitor.id, agent.identity)
    answer = _post(client, visitor, "one more question")
    assert answer.status_code == 201
    log = client.get(f"/api/conversations/{visitor.id}/messages", headers=visitor.headers)
    page = log.get_json()
    assert [(m["kind"], m["status"]) for m in page["messages"]] == [
        ("status", "closed"),
        ("text", None),
        ("status", "waiting"),
    ]
    assert page["conversation"]["status"] == "waiting"
    assert page["conversation"]["closed_at"] is None


@pytest.mark.parametrize(
    "query",
    ["after=-1", "after=abc", "after=1.5", "after=٣", "limit=0", "wait=31", "wait=-2"],
)
def test_a_bad_cursor_is_refused_with_422(client, visitor, query):
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?{query}", headers=visitor.headers
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == query.split("=")[0]

"""POST/GET /api/conversations: the happy path and every bad input, which stores nothing."""

import pytest

from tests.conftest import stored_counts


def test_starting_a_conversation_returns_it_and_a_token(client):
    answer = client.post("/api/conversations", json={"name": "Ada", "email": "ada@example.com"})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["conversation"]["visitor"] == {
        "name": "Ada",
        "email": "ada@example.com",
    }
    assert body["conversation"]["status"] == "waiting"
    assert body["conversation"]["last_seq"] == 0
    assert len(body["token"]) == 43
    shown = client.get(
        f"/api/conversations/{body['conversation']['id']}",
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert shown.status_code == 200
    assert shown.get_json()["conversation"]["id"] == body["conversation"]["id"]


def test_the_email_is_optional(client):
    answer = client.post("/api/conversations", json={"name": "Ada"})
    assert answer.status_code == 201
    assert answer.get_json()["conversation"]["visitor"]["email"] is None


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"name": ""}, 422, "blank", "name"),
        ({"name": "   "}, 422, "blank", "name"),
        ({}, 422, "blank", "name"),
        ({"name": "x" * 81}, 422, "too_long", "name"),
        ({"name": "Ada", "email": "not-an-email"}, 422, "invalid_email", "email"),
        ({"name": "Ada", "email": "ada@"}, 422, "invalid_email", "email"),
        (["not", "an", "object"], 400, "invalid_json", None),
    ],
)
def test_bad_visitor_details_are_refused(app, client, payload, status, code, field):
    before = stored_counts(app)
    answer = client.post("/api/conversations", json=payload)
    assert answer.status_code == status
    assert answer.get_json()["error"]["code"] == code
    assert answer.get_json()["error"]["field"] == field
    assert stored_counts(app) == before


def test_a_body_that_is_not_json_is_refused_with_415(app, client):
    before = stored_counts(app)
    answer = client.post("/api/conversations", data="name=Ada")
    assert answer.status_code == 415
    assert answer.get_json()["error"]["code"] == "unsupported_media_type"
    assert stored_counts(app) == before


def test_malformed_json_is_refused_with_400(app, client):
    before = stored_counts(app)
    answer = client.post(
        "/api/conversations", data='{"name": "Ada"', content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_json"
    assert stored_counts(app) == before


def test_a_json_body_over_16_kib_is_refused_with_413(app, client):
    before = stored_counts(app)
    answer = client.post("/api/conversations", json={"name": "Ada", "pad": "x" * 16 * 1024})
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "payload_too_large"
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Bearer "}, 401, "missing_token"),
        ({"Authorization": "Bearer short"}, 401, "invalid_token"),
        ({"Authorization": "Basic YWRhOmFkYQ=="}, 401, "invalid_token"),
        # A well-formed token that opens nothing: as if the conversation did not exist.
        ({"Authorization": "Bearer " + "A" * 43}, 404, "not_found"),
    ],
)
def test_get_needs_the_conversations_own_token(client, visitor, headers, status, code):
    answer = client.get(f"/api/conversations/{visitor.id}", headers=headers)
    assert answer.status_code == status
    assert answer.get_json()["error"]["code"] == code
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_conversations_token_finds_no_conversation(client, start_visitor):
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    answer = client.get(f"/api/conversations/{ada.id}", headers=bob.headers)
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


def test_an_unknown_conversation_is_404_in_the_json_shape(client, visitor):
    for path in (f"/api/conversations/{visitor.id + 1000}", "/api/conversations/abc"):
        answer = client.get(path, headers=visitor.headers)
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_found"


def test_the_token_is_not_accepted_in_the_query_string_of_plain_gets(client, visitor):
    answer = client.get(f"/api/conversations/{visitor.id}?token={visitor.token}")
    assert answer.status_code == 401

"""POST …/messages with kind "note": agents only; the visitor's history never holds one."""

import uuid

from tests.conftest import stored_counts


def _note(poster, visitor, body, client_id=None, headers=None):
    payload = {"body": body, "client_id": client_id or str(uuid.uuid4()), "kind": "note"}
    return poster.post(
        f"/api/conversations/{visitor.id}/messages", json=payload, headers=headers or {}
    )


def test_an_agents_note_answers_201_then_200_with_the_stored_one(sign_in, agent, visitor):
    maria = sign_in(agent)
    first = _note(maria, visitor, "Gold plan customer", "note-1")
    again = _note(maria, visitor, "Gold plan customer", "note-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["message"]["kind"] == "note"
    assert again.get_json() == first.get_json()


def test_a_visitors_note_is_403_and_stores_nothing(app, client, visitor):
    before = stored_counts(app)
    answer = _note(client, visitor, "let me in", headers=visitor.headers)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "notes_are_for_agents"
    assert stored_counts(app) == before


def test_an_unknown_kind_is_422_naming_the_field(sign_in, agent, visitor):
    answer = sign_in(agent).post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "x", "client_id": "k-1", "kind": "status"},
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "kind"


def test_the_visitors_history_holds_replies_but_no_note(client, sign_in, agent, visitor):
    maria = sign_in(agent)
    client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "Hi", "client_id": "v-1"},
        headers=visitor.headers,
    )
    _note(maria, visitor, "<script>alert(1)</script> internal: refund?")
    maria.post(
        f"/api/conversations/{visitor.id}/messages", json={"body": "Hello!", "client_id": "a-1"}
    )
    history = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0", headers=visitor.headers
    ).get_json()
    assert [m["kind"] for m in history["messages"]] == ["text", "status", "text"]
    assert "refund" not in str(history)
    assert history["cursor"] == history["conversation"]["last_seq"] == 4
    # The agents' history has it, in its place.
    agents = maria.get(f"/api/conversations/{visitor.id}/messages?after=0").get_json()
    assert [m["kind"] for m in agents["messages"]] == ["text", "note", "status", "text"]

"""Signed visitor identity over HTTP: POST /api/conversations with `identity`, and
POST /api/conversations/resume. A verified id links a visitor's browsers to one open
conversation; an unsigned, wrongly signed or replayed id links nothing."""

import logging

import pytest
from sqlalchemy import event, func, select

from devtone.domain import conversations, identities, visitors
from devtone.domain.models import Conversation, VisitorToken
from devtone.extensions import db
from tests.conftest import app_on, stored_counts

SECRET = "s3cret-identity-key-for-tests"


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """An app whose deployment has an identity secret."""
    with app_on(database_url, redis_url, redis_channel, IDENTITY_SECRET=SECRET) as app:
        yield app


def signed(visitor_id: str, secret: str = SECRET) -> dict:
    return {"id": visitor_id, "hash": identities.sign(secret, visitor_id)}


def start(client, identity=None, name="Ada", **more):
    payload = {"name": name, **more}
    if identity is not None:
        payload["identity"] = identity
    return client.post("/api/conversations", json=payload)


def bearer(answer) -> dict:
    return {"Authorization": f"Bearer {answer.json['token']}"}


def post(client, answer, body, client_id):
    conversation_id = answer.json["conversation"]["id"]
    return client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"body": body, "client_id": client_id},
        headers=bearer(answer),
    )


def read(client, answer):
    conversation_id = answer.json["conversation"]["id"]
    return client.get(f"/api/conversations/{conversation_id}/messages", headers=bearer(answer))


def stored_identity(app, conversation_id):
    with app.app_context():
        value = db.session.get(Conversation, conversation_id).visitor_identity
        db.session.remove()
    return value


def test_the_hash_is_the_hex_hmac_sha256_of_the_id_keyed_with_the_secret():
    # The value docs/identity.md's Python, Node and PHP lines print for this key and id
    # (Node's crypto.createHmac gave it too).
    assert identities.sign("key", "user-42") == (
        "0983e4f61237ae8c632bef7116a23826a63352b2d36a1cc87d9fcb89b3260777"
    )


def test_a_valid_hash_stores_the_verified_id_on_the_new_conversation(app, client):
    answer = start(client, signed("user-42"))
    assert answer.status_code == 201
    assert answer.json["identity"] == "verified"
    assert stored_identity(app, answer.json["conversation"]["id"]) == "user-42"


def test_a_second_browser_with_a_valid_hash_gets_the_open_conversation_and_its_own_token(
    app, client
):
    laptop = start(client, signed("user-42"))
    assert post(client, laptop, "hello from the laptop", "c-1").status_code == 201

    phone = start(client, signed("user-42"), name="Ada on her phone")
    assert phone.status_code == 200
    assert phone.json["identity"] == "verified"
    assert phone.json["conversation"]["id"] == laptop.json["conversation"]["id"]
    assert phone.json["token"] != laptop.json["token"]
    # The whole history started on the laptop.
    assert [m["body"] for m in read(client, phone).json["messages"]] == ["hello from the laptop"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
        db.session.remove()


def test_the_second_browsers_token_posts_and_the_first_browsers_still_works(client):
    laptop = start(client, signed("user-42"))
    phone = start(client, signed("user-42"))
    assert post(client, phone, "from the phone", "p-1").status_code == 201
    assert post(client, laptop, "from the laptop", "l-1").status_code == 201
    for browser in (laptop, phone):
        assert [m["body"] for m in read(client, browser).json["messages"]] == [
            "from the phone",
            "from the laptop",
        ]
    conversation_id = laptop.json["conversation"]["id"]
    for path in ("read", "marks"):
        body = {"seq": 1} if path == "read" else {"seen": 1}
        moved = client.post(
            f"/api/conversations/{conversation_id}/{path}", json=body, headers=bearer(phone)
        )
        assert moved.status_code == 200
    streamed = client.get(
        f"/api/conversations/{conversation_id}/events?token={phone.json['token']}"
    )
    assert streamed.status_code == 200
    assert streamed.mimetype == "text/event-stream"
    streamed.close()


def test_a_second_browsers_token_opens_no_other_conversation(client):
    mine = start(client, signed("user-42"))
    phone = start(client, signed("user-42"))
    other = start(client, name="Grace")
    answer = client.get(
        f"/api/conversations/{other.json['conversation']['id']}", headers=bearer(phone)
    )
    assert answer.status_code == 404
    assert mine.json["conversation"]["id"] != other.json["conversation"]["id"]


def test_a_closed_conversation_is_not_resumed_a_new_one_starts(app, client, agent):
    first = start(client, signed("user-42"))
    with app.app_context():
        conversations.close_conversation(first.json["conversation"]["id"], agent.identity)
    again = start(client, signed("user-42"))
    assert again.status_code == 201
    assert again.json["conversation"]["id"] != first.json["conversation"]["id"]
    assert stored_identity(app, again.json["conversation"]["id"]) == "user-42"


def test_asking_for_a_new_conversation_starts_one_even_with_one_open(app, client):
    first = start(client, signed("user-42"))
    second = start(client, signed("user-42"), resume=False)
    assert second.status_code == 201
    assert second.json["conversation"]["id"] != first.json["conversation"]["id"]
    # The next browser is handed the newest open one.
    third = start(client, signed("user-42"))
    assert third.json["conversation"]["id"] == second.json["conversation"]["id"]


def test_an_id_without_a_hash_is_ignored(app, client):
    start(client, signed("user-42"))
    answer = start(client, {"id": "user-42"})
    assert answer.status_code == 201
    assert answer.json["identity"] == "ignored"
    assert stored_identity(app, answer.json["conversation"]["id"]) is None


def test_without_an_identity_the_answer_says_nothing_of_one(client):
    answer = start(client)
    assert answer.status_code == 201
    assert "identity" not in answer.json


def test_with_no_secret_set_even_a_well_signed_id_is_ignored(
    database_url, redis_url, redis_channel
):
    with app_on(database_url, redis_url, redis_channel) as app:
        client = app.test_client()
        first = start(client, signed("user-42"))
        second = start(client, signed("user-42"))
        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json["identity"] == "ignored"
        assert second.json["conversation"]["id"] != first.json["conversation"]["id"]
        assert stored_identity(app, first.json["conversation"]["id"]) is None


@pytest.mark.parametrize(
    "identity",
    [
        {"id": "user-42", "hash": "0" * 64},  # forged
        {"id": "user-42", "hash": identities.sign(SECRET, "user-7")},  # another id's, replayed
        {"id": "user-42", "hash": identities.sign("another-deployment-key", "user-42")},
        {"id": "user-42", "hash": "not hex at all ✓"},
    ],
    ids=["forged", "replayed-for-another-id", "other-secret", "not-hex"],
)
def test_a_wrong_hash_does_not_link_and_is_logged(app, client, caplog, identity):
    linked = start(client, signed("user-42"))
    with caplog.at_level(logging.WARNING, logger="devtone.domain.identities"):
        answer = start(client, identity)
    assert answer.status_code == 201
    assert answer.json["identity"] == "refused"
    assert answer.json["conversation"]["id"] != linked.json["conversation"]["id"]
    assert stored_identity(app, answer.json["conversation"]["id"]) is None
    # The visitor still chats, unlinked.
    assert post(client, answer, "hello", "c-1").status_code == 201
    assert "'user-42'" in caplog.text and "refused" in caplog.text
    assert identity["hash"] not in caplog.text and SECRET not in caplog.text
    assert signed("user-42")["hash"] not in caplog.text


def test_a_hash_in_capitals_is_accepted(client):
    start(client, signed("user-42"))
    identity = signed("user-42")
    identity["hash"] = identity["hash"].upper()
    assert start(client, identity).status_code == 200


def test_a_unicode_id_is_signed_and_linked_as_utf8(app, client):
    visitor_id = "josé.müller@exemplo.com.br 🙂"
    first = start(client, signed(visitor_id))
    again = start(client, signed(visitor_id))
    assert again.status_code == 200
    assert again.json["conversation"]["id"] == first.json["conversation"]["id"]
    assert stored_identity(app, first.json["conversation"]["id"]) == visitor_id


def test_an_id_of_the_longest_length_is_taken(client):
    visitor_id = "x" * identities.ID_MAX
    assert start(client, signed(visitor_id)).json["identity"] == "verified"


@pytest.mark.parametrize(
    ("identity", "code", "field"),
    [
        ("user-42", "invalid_identity", "identity"),
        (["user-42"], "invalid_identity", "identity"),
        ({"hash": "0" * 64}, "required", "identity.id"),
        ({"id": 42, "hash": "0" * 64}, "required", "identity.id"),
        ({"id": None, "hash": "0" * 64}, "required", "identity.id"),
        ({"id": {"nested": 1}}, "required", "identity.id"),
        ({"id": "", "hash": "0" * 64}, "required", "identity.id"),
        ({"id": "x" * 256, "hash": "0" * 64}, "too_long", "identity.id"),
        ({"id": "user\n42", "hash": "0" * 64}, "invalid_text", "identity.id"),
        ({"id": "user\x0042"}, "invalid_text", "identity.id"),
        ({"id": "user-42", "hash": 42}, "invalid_identity", "identity.hash"),
        ({"id": "user-42", "hash": ["0" * 64]}, "invalid_identity", "identity.hash"),
        ({"id": "user-42", "hash": "0" * 129}, "invalid_identity", "identity.hash"),
    ],
)
def test_an_identity_of_the_wrong_shape_is_refused_and_stores_nothing(
    app, client, identity, code, field
):
    before = stored_counts(app)
    answer = start(client, identity)
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == code
    assert answer.json["error"]["field"] == field
    assert stored_counts(app) == before


def test_resume_must_be_true_or_false(client):
    answer = start(client, signed("user-42"), resume="no")
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == "resume"


def test_a_resumed_conversation_still_needs_a_valid_name(client):
    start(client, signed("user-42"))
    answer = start(client, signed("user-42"), name="")
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == "name"


def test_html_in_the_id_is_stored_as_text(app, client):
    visitor_id = "<script>alert(1)</script>"
    answer = start(client, signed(visitor_id))
    assert stored_identity(app, answer.json["conversation"]["id"]) == visitor_id


# -- POST /api/conversations/resume: the open conversation, or nothing -------------------


def test_resume_hands_a_verified_visitor_their_open_conversation(client):
    laptop = start(client, signed("user-42"))
    post(client, laptop, "started on the laptop", "c-1")
    phone = client.post("/api/conversations/resume", json={"identity": signed("user-42")})
    assert phone.status_code == 200
    assert phone.json["conversation"]["id"] == laptop.json["conversation"]["id"]
    assert phone.json["identity"] == "verified"
    assert [m["body"] for m in read(client, phone).json["messages"]] == ["started on the laptop"]


def test_resume_starts_nothing_when_the_visitor_has_no_open_conversation(app, client):
    before = stored_counts(app)
    answer = client.post("/api/conversations/resume", json={"identity": signed("user-42")})
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "no_open_conversation"
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    "identity",
    [{"id": "user-42"}, {"id": "user-42", "hash": identities.sign(SECRET, "user-7")}],
    ids=["no-hash", "replayed"],
)
def test_resume_refuses_an_unverified_identity(app, client, identity):
    start(client, signed("user-42"))
    answer = client.post("/api/conversations/resume", json={"identity": identity})
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "identity_not_verified"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitorToken)) == 0
        db.session.remove()


def test_resume_without_an_identity_is_refused(client):
    answer = client.post("/api/conversations/resume", json={})
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == "identity"


def test_resume_answers_in_brazilian_portuguese(client):
    answer = client.post(
        "/api/conversations/resume",
        json={"identity": signed("user-42")},
        headers={"Accept-Language": "pt-BR"},
    )
    assert answer.status_code == 404
    assert answer.json["error"]["message"] == "Este visitante não tem uma conversa aberta."


def test_a_further_browsers_token_is_stored_as_a_hash_only(app, client):
    start(client, signed("user-42"))
    phone = start(client, signed("user-42"))
    with app.app_context():
        stored = db.session.scalars(select(VisitorToken.token_hash)).all()
        db.session.remove()
    assert stored == [visitors.hash_token(phone.json["token"])]


def test_a_conversation_deleted_takes_its_further_tokens_with_it(app, client):
    start(client, signed("user-42"))
    start(client, signed("user-42"))
    with app.app_context():
        db.session.execute(db.delete(Conversation))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(VisitorToken)) == 0
        db.session.remove()


def test_the_first_browsers_requests_never_read_the_further_tokens(app, client):
    """The hot path stays one row: only a token the row's hashes do not match looks
    further (visitor_tokens)."""
    laptop = start(client, signed("user-42"))
    phone = start(client, signed("user-42"))
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert post(client, laptop, "from the laptop", "l-1").status_code == 201
        assert read(client, laptop).status_code == 200
        laptop_statements = list(statements)
        statements.clear()
        assert post(client, phone, "from the phone", "p-1").status_code == 201
        phone_statements = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert laptop_statements and not any("visitor_tokens" in s for s in laptop_statements)
    assert any("visitor_tokens" in s for s in phone_statements)


# -- POST /api/conversations/earlier: the closed ones, for "Earlier conversations" -------


def earlier(client, identity, known=None):
    body = {"identity": identity} if known is None else {"identity": identity, "known": known}
    return client.post("/api/conversations/earlier", json=body)


def closed_conversation(client, agent, visitor_id: str, body: str) -> int:
    laptop = start(client, signed(visitor_id), resume=False)
    post(client, laptop, body, f"c-{body}")
    conversation_id = laptop.json["conversation"]["id"]
    with client.application.app_context():
        conversations.close_conversation(conversation_id, agent.identity)
    return conversation_id


def test_earlier_hands_a_verified_visitor_their_closed_conversations_newest_first(client, agent):
    first = closed_conversation(client, agent, "user-42", "the first one")
    second = closed_conversation(client, agent, "user-42", "the second one")
    closed_conversation(client, agent, "user-7", "someone else's")
    start(client, signed("user-42"))  # open: /resume's business, not this one's

    answer = earlier(client, signed("user-42"))
    assert answer.status_code == 200
    found = answer.json["earlier"]
    assert [item["conversation"]["id"] for item in found] == [second, first]
    # Each token opens its own conversation on this browser, and no other.
    for item in found:
        headers = {"Authorization": f"Bearer {item['token']}"}
        cid = item["conversation"]["id"]
        messages = client.get(f"/api/conversations/{cid}/messages", headers=headers)
        assert messages.status_code == 200 and len(messages.json["messages"]) >= 1
    wrong = {"Authorization": f"Bearer {found[0]['token']}"}
    assert client.get(f"/api/conversations/{first}", headers=wrong).status_code == 404


def test_earlier_makes_no_token_for_a_conversation_this_browser_holds(app, client, agent):
    first = closed_conversation(client, agent, "user-42", "held here")
    second = closed_conversation(client, agent, "user-42", "not here")
    answer = earlier(client, signed("user-42"), known=[first])
    assert [item["conversation"]["id"] for item in answer.json["earlier"]] == [second]
    again = earlier(client, signed("user-42"), known=[first, second])
    assert again.json["earlier"] == []
    with app.app_context():
        tokens = db.session.scalar(select(func.count()).select_from(VisitorToken))
        db.session.remove()
    assert tokens == 1


@pytest.mark.parametrize(
    "identity",
    [{"id": "user-42"}, {"id": "user-42", "hash": identities.sign(SECRET, "user-7")}],
    ids=["no-hash", "replayed"],
)
def test_earlier_refuses_an_unverified_identity_and_makes_no_token(app, client, agent, identity):
    closed_conversation(client, agent, "user-42", "private")
    answer = earlier(client, identity)
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "identity_not_verified"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitorToken)) == 0
        db.session.remove()


@pytest.mark.parametrize("known", ["1,2", [1, "2"], [True], [0], list(range(1, 52)), {"a": 1}])
def test_earlier_refuses_a_known_list_that_is_not_one(client, known):
    answer = earlier(client, signed("user-42"), known=known)
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == "known"


def test_a_signed_visitor_browsing_many_pages_can_still_start_a_conversation(app, client):
    # /resume and /earlier run on every page a signed visitor opens: they are counted apart
    # from conversation starts.
    app.config["CONVERSATION_RATE_LIMIT"] = "3 per minute"
    for _ in range(5):
        assert earlier(client, signed("user-42")).status_code == 200
        resumed = client.post("/api/conversations/resume", json={"identity": signed("user-42")})
        assert resumed.status_code == 404
    assert start(client, signed("user-42")).status_code == 201


def test_earlier_gives_a_browser_no_more_than_it_keeps(app, client, agent):
    ids = [closed_conversation(client, agent, "user-42", f"number {n}") for n in range(3)]
    # A browser holding ten already (it keeps ten) gets none, and no token is made for it.
    full = earlier(client, signed("user-42"), known=list(range(1000, 1010)))
    assert full.json["earlier"] == []
    # Holding nine, it gets the newest one.
    nine = earlier(client, signed("user-42"), known=list(range(1000, 1009)))
    assert [item["conversation"]["id"] for item in nine.json["earlier"]] == [ids[-1]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitorToken)) == 1
        db.session.remove()

"""A visitor's data across issue 21's parts: named by the id a site signed for them, asked
for with an API token that has agents:manage, and erased from every further browser's token
and from the webhook events that carried copies of it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from devtone.domain import conversations, identities
from devtone.domain.models import Conversation, VisitorToken, WebhookEvent
from devtone.extensions import db
from tests.conftest import app_on

SECRET = "s3cret-identity-key-for-tests"
VISITOR_ID = "cliente-Zoë-42"


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """A deployment with an identity secret that lets webhooks reach loopback receivers."""
    with app_on(
        database_url, redis_url, redis_channel, IDENTITY_SECRET=SECRET, WEBHOOK_ALLOW_PRIVATE=True
    ) as app:
        yield app


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signed_visitor_on_two_browsers(client) -> tuple[int, str, str]:
    """A signed visitor who wrote from a laptop and opened the same conversation on a phone."""
    identity = {"id": VISITOR_ID, "hash": identities.sign(SECRET, VISITOR_ID)}
    laptop = client.post("/api/conversations", json={"name": "Zoë", "identity": identity})
    assert laptop.status_code == 201, laptop.get_data(as_text=True)
    cid = laptop.json["conversation"]["id"]
    posted = client.post(
        f"/api/conversations/{cid}/messages",
        json={"body": "Meu pedido <b>quokka</b>", "client_id": "c-1"},
        headers=bearer(laptop.json["token"]),
    )
    assert posted.status_code == 201
    phone = client.post("/api/conversations", json={"name": "Zoë", "identity": identity})
    assert phone.status_code == 200 and phone.json["conversation"]["id"] == cid
    return cid, laptop.json["token"], phone.json["token"]


def token_of(boss, scopes: list[str]) -> str:
    made = boss.post("/api/tokens", json={"name": "Privacy desk", "scopes": scopes})
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.json["token"]


def test_an_admin_exports_and_erases_a_signed_visitor_by_their_id(app, client, admin, sign_in):
    cid, laptop, phone = signed_visitor_on_two_browsers(client)
    boss = sign_in(admin)

    exported = boss.get("/api/visitors/export", query_string={"identity": VISITOR_ID})
    assert exported.status_code == 200
    document = json.loads(exported.get_data(as_text=True))
    assert document["visitor"] == {"identity": VISITOR_ID}
    [item] = document["conversations"]
    assert item["visitor_identity"] == VISITOR_ID
    assert [m["body"] for m in item["messages"] if m["kind"] == "text"] == [
        "Meu pedido <b>quokka</b>"
    ]

    erased = boss.post("/api/visitors/erase", json={"identity": VISITOR_ID})
    assert erased.json == {"conversations": 1, "files": 0}
    # Neither browser's token opens it, and the site's id no longer names anyone here.
    for token in (laptop, phone):
        assert client.get(f"/api/conversations/{cid}", headers=bearer(token)).status_code == 404
    with app.app_context():
        assert db.session.get(Conversation, cid).visitor_identity is None
        assert db.session.scalar(select(func.count()).select_from(VisitorToken)) == 0
        db.session.remove()
    again = boss.get("/api/visitors/export", query_string={"identity": VISITOR_ID})
    assert json.loads(again.get_data(as_text=True))["conversations"] == []


def test_an_id_is_matched_exactly_and_never_as_an_address(app, client, admin, sign_in):
    signed_visitor_on_two_browsers(client)
    boss = sign_in(admin)
    for other in (VISITOR_ID.upper(), VISITOR_ID + " "):
        found = boss.get("/api/visitors/export", query_string={"identity": other})
        assert json.loads(found.get_data(as_text=True))["conversations"] == []


@pytest.mark.parametrize(
    ("ask", "field"),
    [
        ({"identity": VISITOR_ID, "email": "zoe@example.com"}, "email"),  # two visitors?
        ({"identity": "x" * 256}, "identity"),
        ({"identity": "line\nbreak"}, "identity"),
        ({"identity": ""}, "identity"),
        ({"identity": 42}, "identity"),
    ],
)
def test_a_visitor_named_twice_or_by_an_id_that_is_none_is_refused(
    app, client, admin, sign_in, ask, field
):
    cid, laptop, _ = signed_visitor_on_two_browsers(client)
    answer = sign_in(admin).post("/api/visitors/erase", json=ask)
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == field
    assert client.get(f"/api/conversations/{cid}", headers=bearer(laptop)).status_code == 200


def test_a_token_with_agents_manage_exports_and_erases_and_is_audited(app, client, admin, sign_in):
    cid, laptop, _ = signed_visitor_on_two_browsers(client)
    boss = sign_in(admin)
    token = token_of(boss, ["agents:manage"])

    exported = client.get(
        "/api/visitors/export", query_string={"identity": VISITOR_ID}, headers=bearer(token)
    )
    assert exported.status_code == 200
    assert len(json.loads(exported.get_data(as_text=True))["conversations"]) == 1
    erased = client.post(
        "/api/visitors/erase", json={"identity": VISITOR_ID}, headers=bearer(token)
    )
    assert erased.status_code == 200 and erased.json["conversations"] == 1
    assert client.get(f"/api/conversations/{cid}", headers=bearer(laptop)).status_code == 404

    log = boss.get("/api/audit").json["entries"]
    acts = [(e["actor"]["kind"], e["action"]) for e in log]
    assert ("token", "visitor.erase") in acts and ("token", "visitor.export") in acts
    assert token not in json.dumps(log) and VISITOR_ID not in json.dumps(log)


def test_a_token_without_agents_manage_may_neither_export_nor_erase(app, client, admin, sign_in):
    cid, laptop, _ = signed_visitor_on_two_browsers(client)
    token = token_of(sign_in(admin), ["conversations:read", "messages:write"])
    asked = client.get(
        "/api/visitors/export", query_string={"identity": VISITOR_ID}, headers=bearer(token)
    )
    assert asked.status_code == 403 and asked.json["error"]["code"] == "missing_scope"
    erased = client.post(
        "/api/visitors/erase", json={"identity": VISITOR_ID}, headers=bearer(token)
    )
    assert erased.status_code == 403
    assert client.get(f"/api/conversations/{cid}", headers=bearer(laptop)).status_code == 200


def test_erasure_takes_the_webhook_events_that_copied_the_visitors_words(
    app, client, admin, sign_in
):
    boss = sign_in(admin)
    registered = boss.post(
        "/api/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["message.created"]},
    )
    assert registered.status_code == 201, registered.get_data(as_text=True)
    cid, _, _ = signed_visitor_on_two_browsers(client)

    def events() -> list[str]:
        with app.app_context():
            bodies = db.session.scalars(
                select(WebhookEvent.body).where(WebhookEvent.conversation_id == cid)
            ).all()
            db.session.remove()
        return bodies

    assert any("quokka" in body for body in events())
    boss.post("/api/visitors/erase", json={"identity": VISITOR_ID})
    assert events() == []


def test_the_cli_exports_and_erases_by_identity(app, client, tmp_path):
    cid, laptop, _ = signed_visitor_on_two_browsers(client)
    runner = app.test_cli_runner()
    out = tmp_path / "zoe.json"
    exported = runner.invoke(
        args=["visitor-export", "--identity", VISITOR_ID, "--output", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["visitor"] == {"identity": VISITOR_ID}
    erased = runner.invoke(args=["visitor-erase", "--identity", VISITOR_ID, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "1 conversation(s)" in erased.output
    assert client.get(f"/api/conversations/{cid}", headers=bearer(laptop)).status_code == 404
    neither = runner.invoke(args=["visitor-erase", "--yes"])
    assert neither.exit_code != 0


@pytest.mark.parametrize("ask", [{"email": "ZOE@example.com"}, {"identity": VISITOR_ID}])
def test_a_signed_visitor_is_found_by_their_address_or_their_id_in_every_conversation(
    app, client, admin, sign_in, agent, ask
):
    # The first conversation (laptop and phone) carries the id only; a later one carries
    # the id and the address; someone else's carries another person's address.
    first, _, _ = signed_visitor_on_two_browsers(client)
    with app.app_context():
        conversations.close_conversation(first, agent.identity)
    identity = {"id": VISITOR_ID, "hash": identities.sign(SECRET, VISITOR_ID)}
    later = client.post(
        "/api/conversations",
        json={"name": "Zoë", "email": "zoe@example.com", "identity": identity},
    )
    # Before signing in on the site, they wrote once with their address only.
    anonymous = client.post("/api/conversations", json={"name": "Zoë", "email": "zoe@example.com"})
    stranger = client.post("/api/conversations", json={"name": "Bea", "email": "bea@example.com"})

    found = sign_in(admin).get("/api/visitors/export", query_string=ask)
    ids = [
        c["conversation"]["id"] for c in json.loads(found.get_data(as_text=True))["conversations"]
    ]
    assert ids == [first, later.json["conversation"]["id"], anonymous.json["conversation"]["id"]]
    assert stranger.json["conversation"]["id"] not in ids

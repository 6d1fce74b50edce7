"""/api/tokens and calls made with an API token: scopes, revocation, bots, limits, audit."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from devtone.domain import agents, api_tokens, conversations, reply_mail, visitors
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import ApiToken, AuditEntry, Conversation, utcnow
from devtone.extensions import db
from tests.conftest import (
    AGENT_PASSWORD,
    AgentAccount,
    AgentClient,
    app_on,
    counted_in_redis,
)

ALL_SCOPES = ["conversations:read", "messages:write", "agents:manage"]


def make_token(boss, name="Helpdesk bot", scopes=ALL_SCOPES):
    answer = boss.post("/api/tokens", json={"name": name, "scopes": scopes})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def post_as(client, token, conversation_id, body="Hello from the bot", client_id=None):
    return client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"body": body, "client_id": client_id or str(uuid.uuid4())},
        headers=bearer(token),
    )


def audit_rows(app, action=None):
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = [
            (r.actor_kind, r.actor_id, r.actor_name, r.action, r.target, r.detail)
            for r in db.session.scalars(query)
        ]
        db.session.remove()
    return rows


@pytest.fixture
def boss(admin, sign_in):
    return sign_in(admin)


# -- making, listing and revoking -------------------------------------------------------


def test_an_admin_makes_a_token_shown_once_and_stored_only_as_its_hash(app, boss):
    made = make_token(boss, scopes=["messages:write", "conversations:read"])
    token = made["token"]
    assert token.startswith("dtk_") and len(token) == 4 + 43
    assert made["scopes"] == ["conversations:read", "messages:write"]
    assert made["prefix"] == token[:10]
    assert made["last_used_at"] is None and made["revoked_at"] is None
    listed = boss.get("/api/tokens").get_json()["tokens"]
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0]
    with app.app_context():
        stored = db.session.execute(text("SELECT * FROM api_tokens")).mappings().one()
        db.session.remove()
    assert token not in {str(value) for value in stored.values()}
    assert stored["token_hash"] == api_tokens.hash_token(token)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "", "scopes": ["messages:write"]}, "name", "blank"),
        ({"name": " \u200b ", "scopes": ["messages:write"]}, "name", "blank"),
        ({"name": "x" * 81, "scopes": ["messages:write"]}, "name", "too_long"),
        ({"name": "a\nb", "scopes": ["messages:write"]}, "name", "invalid_text"),
        ({"name": 7, "scopes": ["messages:write"]}, "name", "blank"),
        ({"name": "Bot", "scopes": []}, "scopes", "blank"),
        ({"name": "Bot"}, "scopes", "blank"),
        ({"name": "Bot", "scopes": "messages:write"}, "scopes", "blank"),
        ({"name": "Bot", "scopes": ["messages:write", "admin"]}, "scopes", "unknown_scope"),
        ({"name": "Bot", "scopes": [None]}, "scopes", "unknown_scope"),
    ],
)
def test_a_token_with_a_bad_name_or_scopes_is_refused_and_nothing_is_stored(
    app, boss, body, field, code
):
    answer = boss.post("/api/tokens", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == code
    assert answer.get_json()["error"]["field"] == field
    assert boss.get("/api/tokens").get_json()["tokens"] == []
    assert audit_rows(app) == []


def test_html_and_unicode_names_are_kept_as_text(boss):
    name = "<b>Robô</b> ção 🤖"
    assert make_token(boss, name=name)["name"] == name
    assert boss.get("/api/tokens").get_json()["tokens"][0]["name"] == name


def test_only_signed_in_admins_manage_tokens(app, client, agent, sign_in, boss):
    maria = sign_in(agent)
    refused = maria.post("/api/tokens", json={"name": "Bot", "scopes": ["messages:write"]})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "admins_only"
    assert maria.get("/api/tokens").status_code == 403
    assert client.get("/api/tokens").status_code == 401
    made = make_token(boss)
    assert (
        maria.client.delete(
            f"/api/tokens/{made['id']}", headers={"X-CSRFToken": maria.csrf_token}
        ).status_code
        == 403
    )
    # A token, whatever its scopes, never makes or revokes one.
    by_token = client.post(
        "/api/tokens", json={"name": "Child", "scopes": ALL_SCOPES}, headers=bearer(made["token"])
    )
    assert by_token.status_code == 403
    assert by_token.get_json()["error"]["code"] == "token_not_allowed"


def test_making_a_token_needs_the_csrf_token_of_the_session(boss):
    refused = boss.client.post("/api/tokens", json={"name": "Bot", "scopes": ["messages:write"]})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_failed"


def test_a_revoked_token_gets_401_at_once(app, client, boss, visitor):
    made = make_token(boss)
    path = f"/api/conversations/{visitor.id}"
    assert client.get(path, headers=bearer(made["token"])).status_code == 200
    revoked = boss.client.delete(
        f"/api/tokens/{made['id']}", headers={"X-CSRFToken": boss.csrf_token}
    )
    assert revoked.status_code == 200
    assert revoked.get_json()["token"]["revoked_at"] is not None
    answer = client.get(path, headers=bearer(made["token"]))
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "invalid_token"
    assert post_as(client, made["token"], visitor.id).status_code == 401
    listed = boss.get("/api/tokens").get_json()["tokens"]
    assert listed[0]["revoked_at"] is not None


def test_revoking_an_unknown_token_is_404(boss):
    answer = boss.client.delete("/api/tokens/999", headers={"X-CSRFToken": boss.csrf_token})
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "credential",
    [
        "dtk_",
        "dtk_short",
        "dtk_" + "A" * 43,  # well formed, never issued
        "dtk_" + "A" * 42 + "!",
    ],
)
def test_an_unknown_or_malformed_team_token_gets_401(client, visitor, credential):
    answer = client.get(f"/api/conversations/{visitor.id}", headers=bearer(credential))
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] in {"invalid_token", "missing_token"}
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


# -- scopes -----------------------------------------------------------------------------


def test_each_scope_opens_its_endpoints_and_nothing_else(client, boss, visitor):
    reader = make_token(boss, "Reader", ["conversations:read"])["token"]
    writer = make_token(boss, "Writer", ["messages:write"])["token"]
    manager = make_token(boss, "Manager", ["agents:manage"])["token"]
    read_paths = [
        f"/api/conversations/{visitor.id}",
        f"/api/conversations/{visitor.id}/messages?after=0",
        "/api/dashboard/snapshot",
        "/api/search?q=Ada",
    ]
    for path in read_paths:
        assert client.get(path, headers=bearer(reader)).status_code == 200, path
        for other in (writer, manager):
            refused = client.get(path, headers=bearer(other))
            assert refused.status_code == 403, path
            assert refused.get_json()["error"]["code"] == "missing_scope"
    assert client.get("/api/agents", headers=bearer(manager)).status_code == 200
    assert client.get("/api/agents", headers=bearer(reader)).status_code == 403
    assert post_as(client, writer, visitor.id).status_code == 201
    refused = post_as(client, reader, visitor.id)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "missing_scope"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/conversations/{id}/close"),
        ("post", "/api/conversations/{id}/assign"),
        ("post", "/api/conversations/{id}/typing"),
        ("post", "/api/conversations/{id}/marks"),
        ("post", "/api/conversations/{id}/read"),
        ("get", "/api/dashboard/alerts"),
        ("get", "/api/canned-replies"),
        ("get", "/api/monitor/snapshot"),
        ("get", "/api/tokens"),
        ("get", "/api/audit"),
    ],
)
def test_a_token_cannot_call_what_no_scope_opens(client, boss, visitor, method, path):
    token = make_token(boss)["token"]
    answer = getattr(client, method)(
        path.format(id=visitor.id), json={"typing": True}, headers=bearer(token)
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "token_not_allowed"


def test_a_visitor_token_cannot_use_the_teams_endpoints(client, visitor):
    for path in ("/api/dashboard/snapshot", "/api/search?q=Ada", "/api/agents", "/api/tokens"):
        assert client.get(path, headers=visitor.headers).status_code == 403, path


def test_a_team_token_is_not_a_visitor_token(client, boss, visitor):
    token = make_token(boss)["token"]
    # Not in the query string, where a visitor's token may be: a URL ends up in logs.
    answer = client.get(f"/api/conversations/{visitor.id}/messages?token={token}")
    assert answer.status_code == 401
    # Nor does it start a visitor's conversation or write as the visitor.
    message = post_as(client, token, visitor.id).get_json()["message"]
    assert message["sender"] == "bot"


def test_a_token_call_needs_no_csrf_token_and_ignores_the_session(app, boss, visitor):
    token = make_token(boss, "Bot")["token"]
    # The admin's own cookie rides along: the bearer token still decides who posts.
    answer = boss.client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "hi", "client_id": str(uuid.uuid4())},
        headers=bearer(token),
    )
    assert answer.status_code == 201
    assert answer.get_json()["message"]["author"] == {"name": "Bot"}


# -- a bot's messages -------------------------------------------------------------------


def test_a_bot_posts_as_itself_and_assigns_nobody(app, client, boss, visitor):
    token = make_token(boss, "Helpdesk bot", ["messages:write"])["token"]
    client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "Hi", "client_id": str(uuid.uuid4())},
        headers=visitor.headers,
    )
    answer = post_as(client, token, visitor.id, "How can I help?", client_id="bot-1")
    assert answer.status_code == 201
    message = answer.get_json()["message"]
    assert message["sender"] == "bot"
    assert message["author"] == {"name": "Helpdesk bot"}
    again = post_as(client, token, visitor.id, "How can I help?", client_id="bot-1")
    assert again.status_code == 200
    assert again.get_json()["message"]["seq"] == message["seq"]
    seen = client.get(f"/api/conversations/{visitor.id}", headers=visitor.headers).get_json()
    assert seen["conversation"]["status"] == "waiting"
    assert seen["conversation"]["agent"] is None
    assert seen["conversation"]["last_message"]["sender"] == "bot"
    with app.app_context():
        row = db.session.execute(
            text("SELECT m.agent_id, c.first_reply_at FROM messages m JOIN conversations c"
                 " ON c.id = m.conversation_id WHERE m.sender = 'bot'")
        ).one()  # fmt: skip
        db.session.remove()
    assert row == (None, None)


def test_another_bot_reusing_a_client_id_gets_409(client, boss, visitor):
    first = make_token(boss, "First bot", ["messages:write"])["token"]
    second = make_token(boss, "Second bot", ["messages:write"])["token"]
    assert post_as(client, first, visitor.id, client_id="same").status_code == 201
    clash = post_as(client, second, visitor.id, client_id="same")
    assert clash.status_code == 409
    assert clash.get_json()["error"]["code"] == "client_id_taken"


def test_a_bot_cannot_write_to_a_closed_conversation(client, boss, agent, sign_in, visitor):
    token = make_token(boss, scopes=["messages:write"])["token"]
    assert sign_in(agent).post(f"/api/conversations/{visitor.id}/close").status_code == 200
    answer = post_as(client, token, visitor.id)
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "conversation_closed"


def test_a_bot_cannot_write_notes(client, boss, visitor):
    token = make_token(boss, scopes=["messages:write"])["token"]
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "psst", "kind": "note", "client_id": "n1"},
        headers=bearer(token),
    )
    assert answer.status_code == 403


def test_the_visitor_reads_the_bots_reply_and_is_emailed_it(app, client, boss, start_visitor):
    visitor = start_visitor("Ada", "ada@example.com")
    token = make_token(boss, "Bot", ["messages:write"])["token"]
    post_as(client, token, visitor.id, "Your order shipped.")
    page = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0", headers=visitor.headers
    ).get_json()
    assert [(m["sender"], m["author"]["name"]) for m in page["messages"]] == [("bot", "Bot")]
    with app.app_context():
        queued = reply_mail.queue_unseen_replies(60, now=utcnow() + timedelta(minutes=5))
        db.session.remove()
    assert queued == 1


def test_a_tokens_reader_sees_what_agents_see(app, client, boss, agent, sign_in, visitor):
    token = make_token(boss, scopes=["conversations:read"])["token"]
    maria = sign_in(agent)
    maria.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "a private note", "kind": "note", "client_id": "n1"},
    )
    page = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0", headers=bearer(token)
    ).get_json()
    assert [m["kind"] for m in page["messages"]] == ["note"]
    assert "labels" in page["conversation"]


# -- last used, audit, limits -----------------------------------------------------------


def test_last_used_is_written_at_most_once_a_minute(app, client, boss, visitor):
    made = make_token(boss, scopes=["conversations:read"])
    path = f"/api/conversations/{visitor.id}"

    def last_used():
        with app.app_context():
            value = db.session.scalar(select(ApiToken.last_used_at))
            db.session.remove()
        return value

    client.get(path, headers=bearer(made["token"]))
    first = last_used()
    assert first is not None
    client.get(path, headers=bearer(made["token"]))
    assert last_used() == first
    with app.app_context():
        db.session.execute(
            ApiToken.__table__.update().values(last_used_at=first - timedelta(seconds=61))
        )
        db.session.commit()
        db.session.remove()
    client.get(path, headers=bearer(made["token"]))
    assert last_used() > first


def test_every_token_call_is_audited_without_the_token(app, client, boss, visitor):
    made = make_token(boss, "Audited bot", ["messages:write"])
    token = made["token"]
    post_as(client, token, visitor.id)
    client.get(f"/api/conversations/{visitor.id}?x={token[:8]}", headers=bearer(token))
    boss.client.delete(f"/api/tokens/{made['id']}", headers={"X-CSRFToken": boss.csrf_token})
    client.get(f"/api/conversations/{visitor.id}", headers=bearer(token))  # revoked: no actor
    rows = audit_rows(app)
    tid = made["id"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("agent", boss.account.id, "token.create", f"token:{tid}"),
        ("token", tid, "api.call", f"POST /api/conversations/{visitor.id}/messages"),
        ("token", tid, "api.call", f"GET /api/conversations/{visitor.id}"),
        ("agent", boss.account.id, "token.revoke", f"token:{tid}"),
    ]
    assert rows[1][2] == "Audited bot"
    assert rows[1][5] == '{"status": 201}' and rows[2][5] == '{"status": 403}'
    assert all(token not in repr(row) and token[4:14] not in repr(row) for row in rows)
    entries = boss.get("/api/audit?limit=2").get_json()
    assert [e["action"] for e in entries["entries"]] == ["token.revoke", "api.call"]
    older = boss.get(f"/api/audit?limit=2&before={entries['next_before']}").get_json()
    assert [e["action"] for e in older["entries"]] == ["api.call", "token.create"]


def test_the_audit_log_is_for_admins(client, agent, sign_in):
    assert sign_in(agent).get("/api/audit").status_code == 403
    assert client.get("/api/audit").status_code == 401


@pytest.fixture
def limited_app(database_url, redis_url, redis_channel):
    counted = counted_in_redis(redis_url, redis_channel)
    with app_on(
        database_url, redis_url, redis_channel, TOKEN_RATE_LIMIT="3 per minute", **counted
    ) as app:
        yield app


def test_calls_past_a_tokens_rate_limit_get_429_per_token(limited_app):
    with limited_app.app_context():
        added = agents.create_agent("boss@example.com", "Boss", AGENT_PASSWORD, "admin")
        conversation, _ = conversations.start_conversation("Ada")
    boss = AgentClient(
        limited_app.test_client(),
        AgentAccount(AgentIdentity(added["id"], added["email"], added["name"], "admin")),
    )
    first = make_token(boss, "First")["token"]
    second = make_token(boss, "Second")["token"]
    client = limited_app.test_client()
    path = f"/api/conversations/{conversation['id']}"
    for _ in range(3):
        assert client.get(path, headers=bearer(first)).status_code == 200
    refused = client.get(path, headers=bearer(first))
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_token_calls"
    assert set(refused.get_json()["error"]) == {"code", "message", "field"}
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get(path, headers=bearer(second)).status_code == 200
    statuses = [e["detail"]["status"] for e in boss.get("/api/audit").get_json()["entries"]
                if e["action"] == "api.call"]  # fmt: skip
    assert statuses[:2] == [200, 429]


def test_pt_br_callers_read_the_scope_refusal_in_portuguese(client, boss, visitor):
    token = make_token(boss, scopes=["conversations:read"])["token"]
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "oi", "client_id": "c1"},
        headers={**bearer(token), "Accept-Language": "pt-BR"},
    )
    assert answer.status_code == 403
    assert "escopo" in answer.get_json()["error"]["message"]


# -- the dashboard's page ---------------------------------------------------------------


def _form(boss, **fields):
    return boss.client.post("/dashboard/api-tokens", data={"csrf_token": boss.csrf_token, **fields})


def test_the_page_shows_a_new_token_once_and_then_only_its_prefix(boss):
    made = _form(boss, name="<b>Shop</b>", scopes=["conversations:read", "messages:write"])
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    page = made.get_data(as_text=True)
    token = boss.get("/api/tokens").get_json()["tokens"][0]
    shown = page.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert shown.startswith(token["prefix"]) and len(shown) == 47
    assert "&lt;b&gt;Shop&lt;/b&gt;" in page and "<b>Shop</b>" not in page
    again = boss.get("/dashboard/api-tokens").get_data(as_text=True)
    assert shown not in again and f"{token['prefix']}…" in again


def test_the_page_says_what_is_wrong_and_keeps_the_input(boss):
    refused = _form(boss, name="Shop bot")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'data-error-for="scopes"' in page and 'value="Shop bot"' in page
    assert boss.get("/api/tokens").get_json()["tokens"] == []


def test_the_page_revokes_a_token(boss, client, visitor):
    _form(boss, name="Shop", scopes=["conversations:read"])
    made = boss.get("/api/tokens").get_json()["tokens"][0]
    answer = boss.client.post(
        f"/dashboard/api-tokens/{made['id']}/revoke", data={"csrf_token": boss.csrf_token}
    )
    assert answer.status_code == 302
    assert boss.get("/api/tokens").get_json()["tokens"][0]["revoked_at"] is not None


def test_the_page_is_for_admins_only(agent, sign_in):
    maria = sign_in(agent)
    assert maria.get("/dashboard/api-tokens").status_code == 403
    assert (
        maria.client.post(
            "/dashboard/api-tokens", data={"csrf_token": maria.csrf_token, "name": "x"}
        ).status_code
        == 403
    )


def test_require_scope_lets_in_a_token_with_the_scope_or_a_signed_in_admin_only(app):
    from flask import g

    from devtone.domain.api_tokens import TokenIdentity
    from devtone.errors import Forbidden, Unauthorized
    from devtone.web.request import require_scope

    manager = TokenIdentity(1, "Exporter", frozenset({"agents:manage"}))
    reader = TokenIdentity(2, "Reader", frozenset({"conversations:read"}))
    with app.test_request_context("/api/visitors/export"):
        g.api_token = manager
        assert require_scope("agents:manage") is manager
        g.api_token = reader
        with pytest.raises(Forbidden) as refused:
            require_scope("agents:manage")
        assert refused.value.code == "missing_scope"
    with app.test_request_context("/api/visitors/export"), pytest.raises(Unauthorized):
        require_scope("agents:manage")  # nobody signed in


def test_the_agent_list_is_for_admins_and_agents_manage_tokens(client, boss, agent, sign_in):
    assert boss.get("/api/agents").status_code == 200
    refused = sign_in(agent).get("/api/agents")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "admins_only"


def test_a_visitor_token_that_happens_to_start_like_a_team_token_is_still_a_visitors(app, client):
    # One visitor token in 16.7 million starts with "dtk_": it must open its conversation.
    with app.app_context():
        started, _ = conversations.start_conversation("Ada")
        lucky = "dtk_" + "A" * 39
        db.session.execute(
            update(Conversation)
            .where(Conversation.id == started["id"])
            .values(visitor_token_hash=visitors.hash_token(lucky))
        )
        db.session.commit()
        db.session.remove()
    answer = client.get(f"/api/conversations/{started['id']}", headers=bearer(lucky))
    assert answer.status_code == 200, answer.get_data(as_text=True)

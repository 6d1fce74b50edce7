"""/api/webhooks: administrators register, list, delete endpoints; a private or loopback
URL is refused unless DEVTONE_WEBHOOK_ALLOW_PRIVATE=1; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from devtone.domain.models import WebhookEndpoint
from devtone.extensions import db
from tests.conftest import ON_SQLITE

PUBLIC_URL = "https://93.184.216.34/hooks?team=1"
EVENTS = ["message.created", "conversation.closed"]


def endpoints_stored(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint))
        db.session.remove()
    return count


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(app, sign_in, admin):
    hooks = sign_in(admin)
    answer = hooks.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS * 2})
    assert answer.status_code == 201
    created = answer.get_json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["url"] == PUBLIC_URL
    assert created["events"] == sorted(EVENTS)  # each once
    assert created["include_notes"] is False and created["enabled"] is True
    listed = hooks.get("/api/webhooks").get_json()["webhooks"]
    assert [endpoint["id"] for endpoint in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert created["secret"] not in hooks.get("/api/webhooks").get_data(as_text=True)


def test_two_endpoints_get_different_secrets(app, sign_in, admin):
    hooks = sign_in(admin)
    first = hooks.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS}).get_json()
    second = hooks.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS}).get_json()
    assert first["secret"] != second["secret"]


def test_a_deleted_endpoint_is_gone(app, sign_in, admin):
    hooks = sign_in(admin)
    created = hooks.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS}).get_json()
    assert (
        hooks.client.delete(
            f"/api/webhooks/{created['id']}", headers={"X-CSRFToken": hooks.csrf_token}
        ).status_code
        == 204
    )
    assert hooks.get("/api/webhooks").get_json()["webhooks"] == []
    assert hooks.get(f"/api/webhooks/{created['id']}/deliveries").status_code == 404
    assert (
        hooks.client.delete(
            f"/api/webhooks/{created['id']}", headers={"X-CSRFToken": hooks.csrf_token}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "https://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://[fec0::1]/",  # site-local
        "http://[2002:a00:5::1]/",  # 6to4 carrying 10.0.0.5
        "http://[2002:7f00:1::1]/",  # 6to4 carrying 127.0.0.1
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://240.0.0.1/",
    ],
)
@ON_SQLITE
def test_a_private_or_loopback_endpoint_is_refused_without_the_setting(app, sign_in, admin, url):
    answer = sign_in(admin).post("/api/webhooks", json={"url": url, "events": EVENTS})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "private_address"
    assert answer.get_json()["error"]["field"] == "url"
    assert endpoints_stored(app) == 0


@ON_SQLITE
def test_a_loopback_endpoint_is_taken_with_the_setting(app, sign_in, admin):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    answer = sign_in(admin).post(
        "/api/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": EVENTS}
    )
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        ({"events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": 42, "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "ftp://93.184.216.34/", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "javascript:alert(1)", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "https:///hooks", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "https://93.184.216.34:99999/", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "https://ex\u00e4mple.com/", "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "https://a.example/" + "x" * 2048, "events": EVENTS}, 422, "url", "invalid_url"),
        ({"url": "https://no-such-host.invalid/", "events": EVENTS}, 422, "url",
         "unresolvable_host"),
        ({"url": PUBLIC_URL}, 422, "events", "invalid_events"),
        ({"url": PUBLIC_URL, "events": []}, 422, "events", "invalid_events"),
        ({"url": PUBLIC_URL, "events": "message.created"}, 422, "events", "invalid_events"),
        ({"url": PUBLIC_URL, "events": ["message.deleted"]}, 422, "events", "invalid_events"),
        ({"url": PUBLIC_URL, "events": [None]}, 422, "events", "invalid_events"),
        ({"url": PUBLIC_URL, "events": EVENTS, "include_notes": "yes"}, 400, "include_notes",
         "invalid_flag"),
    ],
)  # fmt: skip
@ON_SQLITE
def test_bad_input_is_refused_and_stores_nothing(app, sign_in, admin, body, status, field, code):
    answer = sign_in(admin).post("/api/webhooks", json=body)
    assert answer.status_code == status
    assert answer.get_json()["error"]["field"] == field
    assert answer.get_json()["error"]["code"] == code
    assert endpoints_stored(app) == 0


@ON_SQLITE
def test_an_unknown_event_type_is_named_without_echoing_html(app, sign_in, admin):
    answer = sign_in(admin).post(
        "/api/webhooks", json={"url": PUBLIC_URL, "events": ["<script>x</script>"]}
    )
    assert answer.status_code == 422
    assert answer.mimetype == "application/json"


@ON_SQLITE
def test_the_refusal_is_in_the_readers_language(app, sign_in, admin):
    answer = sign_in(admin).post(
        "/api/webhooks",
        json={"url": "http://127.0.0.1/", "events": EVENTS},
        headers={"Accept-Language": "pt-BR"},
    )
    assert answer.status_code == 422
    assert "127.0.0.1" in answer.get_json()["error"]["message"]
    assert "privado" in answer.get_json()["error"]["message"]


def test_agents_and_visitors_cannot_manage_webhooks(app, client, sign_in, agent, visitor):
    maria = sign_in(agent)
    refused = maria.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "admins_only"
    assert maria.get("/api/webhooks").status_code == 403
    assert maria.get("/api/webhooks/1/deliveries").status_code == 403
    as_visitor = client.get("/api/webhooks", headers=visitor.headers)
    assert as_visitor.status_code == 403
    assert client.get("/api/webhooks").status_code == 401
    assert endpoints_stored(app) == 0


@ON_SQLITE
def test_registering_without_the_csrf_token_is_refused(app, sign_in, admin):
    hooks = sign_in(admin)
    answer = hooks.client.post("/api/webhooks", json={"url": PUBLIC_URL, "events": EVENTS})
    assert answer.status_code in (400, 403)
    assert endpoints_stored(app) == 0


def test_deliveries_of_an_unknown_endpoint_are_not_found(app, sign_in, admin):
    hooks = sign_in(admin)
    assert hooks.get("/api/webhooks/7/deliveries").status_code == 404
    answer = hooks.post("/api/webhooks/7/deliveries/1/redeliver")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"

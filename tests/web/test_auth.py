"""Signing in and out at /dashboard/login; agents added and deactivated by admins."""

import re

import pytest

from devtone.domain import agents
from tests.conftest import _CSRF_INPUT


def _login_form_token(client):
    return _CSRF_INPUT.search(client.get("/dashboard/login").get_data(as_text=True)).group(1)


def _try(client, email, password):
    token = _login_form_token(client)
    return client.post(
        "/dashboard/login", data={"email": email, "password": password, "csrf_token": token}
    )


def test_an_agent_signs_in_and_reaches_the_page_that_asked(client, agent):
    assert client.get("/dashboard").status_code == 302
    token = _login_form_token(client)
    answer = client.post(
        "/dashboard/login?next=/dashboard/agents",
        data={"email": agent.email.upper(), "password": agent.password, "csrf_token": token},
    )
    assert (answer.status_code, answer.location) == (302, "/dashboard/agents")


def test_sign_in_never_redirects_to_another_site(client, agent):
    token = _login_form_token(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = client.post(
            f"/dashboard/login?next={target}",
            data={"email": agent.email, "password": agent.password, "csrf_token": token},
        )
        assert answer.location == "/dashboard"
        client.post("/dashboard/logout", data={"csrf_token": token})


# CR/LF would split the Location header (it was a 500); the others are invisible, and no
# page of ours has them in its address.
CONTROL_CHARACTERS = [
    "%0d%0aSet-Cookie:x",
    "%0d",
    "%0a",
    "%00",
    "%09",
    "%7f",
    "%c2%85",
    "%e2%80%a8",
]


@pytest.mark.parametrize("control", CONTROL_CHARACTERS)
def test_a_signed_in_agent_sent_to_a_target_with_control_characters_lands_on_the_dashboard(
    sign_in, agent, control
):
    signed_in = sign_in(agent)
    answer = signed_in.get(f"/dashboard/login?next=/dashboard{control}")
    assert (answer.status_code, answer.location) == (302, "/dashboard")
    assert "Set-Cookie" not in answer.headers


def test_signing_in_with_a_target_that_would_split_the_header_lands_on_the_dashboard(client, agent):
    token = _login_form_token(client)
    answer = client.post(
        "/dashboard/login?next=/dashboard/agents%0d%0aSet-Cookie:x",
        data={"email": agent.email, "password": agent.password, "csrf_token": token},
    )
    assert (answer.status_code, answer.location) == (302, "/dashboard")


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, agent):
    wrong = _try(client, agent.email, "not the password")
    unknown = _try(client, "nobody@example.com", agent.password)
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active agent" in wrong.get_data(as_text=True)

    # The same page, apart from the address the form shows again and the CSRF token
    # (signed with the time, so it differs from one second to the next).
    def page(answer):
        return _CSRF_INPUT.sub("", answer.get_data(as_text=True))

    assert page(wrong).replace(agent.email, "nobody@example.com") == page(unknown)


def test_the_login_form_refuses_a_post_without_its_csrf_token(client, agent):
    answer = client.post(
        "/dashboard/login", data={"email": agent.email, "password": agent.password}
    )
    assert answer.status_code == 400
    assert client.get("/api/dashboard/snapshot").status_code == 401


def test_an_inactive_agent_cannot_sign_in(app, client, agent, admin):
    with app.app_context():
        agents.set_active(agent.id, False, admin.identity)
    assert _try(client, agent.email, agent.password).status_code == 401
    assert client.get("/api/dashboard/snapshot").status_code == 401


def test_deactivating_an_agent_signs_them_out(app, agent, admin, sign_in):
    maria = sign_in(agent)
    assert maria.get("/api/dashboard/snapshot").status_code == 200
    boss = sign_in(admin)
    boss.client.post(
        f"/dashboard/agents/{agent.id}/active", data={"csrf_token": boss.csrf_token, "active": "0"}
    )
    assert maria.get("/api/dashboard/snapshot").status_code == 401


def test_failed_sign_ins_are_rate_limited_with_retry_after(app, client, agent):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert _try(client, agent.email, "wrong").status_code == 401
    limited = _try(client, agent.email, agent.password)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in limited.get_data(as_text=True)


def test_one_agents_attempts_do_not_use_up_a_colleagues_from_the_same_office(
    app, client, make_agent
):
    maria, lee = make_agent("Maria"), make_agent("Lee")
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        _try(client, maria.email, "wrong")
    assert _try(client, maria.email, maria.password).status_code == 429
    assert _try(client, lee.email, lee.password).status_code == 302


def test_an_admin_adds_an_agent_who_can_then_sign_in(app, admin, sign_in):
    boss = sign_in(admin)
    answer = boss.client.post(
        "/dashboard/agents",
        data={
            "csrf_token": boss.csrf_token,
            "email": "lee@example.com",
            "name": "Lee",
            "password": "long enough secret",
        },
    )
    assert answer.status_code == 302
    listed = boss.get("/api/agents").get_json()["agents"]
    assert [(a["email"], a["role"], a["active"]) for a in listed if a["name"] == "Lee"] == [
        ("lee@example.com", "agent", True)
    ]
    assert "password_hash" not in listed[0]
    client = app.test_client()  # Lee signs in with the form
    token = _login_form_token(client)
    signed = client.post(
        "/dashboard/login",
        data={"email": "lee@example.com", "password": "long enough secret", "csrf_token": token},
    )
    assert signed.status_code == 302


def test_adding_an_agent_with_a_taken_address_says_so(admin, sign_in):
    boss = sign_in(admin)
    answer = boss.client.post(
        "/dashboard/agents",
        data={
            "csrf_token": boss.csrf_token,
            "email": admin.email,
            "name": "Twin",
            "password": "long enough secret",
        },
    )
    assert answer.status_code == 422
    assert re.search("exists", answer.get_data(as_text=True))


def test_passwords_are_stored_hashed_with_werkzeugs_default(app, agent):
    from devtone.domain.models import Agent
    from devtone.extensions import db

    with app.app_context():
        stored = db.session.get(Agent, agent.id).password_hash
        db.session.remove()
    assert agent.password not in stored
    assert stored.startswith("scrypt:")


def _attempts_through(**settings):
    """A sign-in attempter on an app of its own (one try a minute per client address):
    attempt(forwarded, peer) sends X-Forwarded-For `forwarded` from socket address `peer`."""
    from devtone import create_app

    app = create_app(
        {"TESTING": True, "PROXY_HOPS": 1, "LOGIN_RATE_LIMIT": "1 per minute", **settings}
    )
    client = app.test_client()
    token = _login_form_token(client)

    def attempt(forwarded, peer="127.0.0.1"):
        return client.post(
            "/dashboard/login",
            data={"email": "x@example.com", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": peer},
        ).status_code

    return attempt


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(agent):
    del agent  # the app below is its own; the limit is about addresses, not accounts
    attempt = _attempts_through()  # nginx on loopback: trusted by default
    assert attempt("203.0.113.1") != 429
    assert attempt("203.0.113.1") == 429
    assert attempt("203.0.113.2") != 429


def test_a_forged_forwarding_header_from_outside_the_trusted_proxies_changes_nothing(agent):
    """A client that reaches the server directly is judged by its socket address,
    whatever X-Forwarded-For it writes."""
    del agent
    attempt = _attempts_through()  # the default trusted proxies: loopback only
    assert attempt("203.0.113.1", peer="198.51.100.7") != 429
    assert attempt("203.0.113.2", peer="198.51.100.7") == 429  # no new allowance


def test_forwarding_headers_are_believed_from_a_configured_proxy_block(agent):
    from ipaddress import ip_network

    del agent
    attempt = _attempts_through(TRUSTED_PROXIES=(ip_network("10.0.0.0/8"),))
    assert attempt("203.0.113.1", peer="10.1.2.3") != 429
    assert attempt("203.0.113.1", peer="10.9.9.9") == 429  # same client, another proxy
    assert attempt("203.0.113.2", peer="10.1.2.3") != 429
    # Loopback is not in this deployment's list: its header is not believed.
    assert attempt("203.0.113.3", peer="127.0.0.1") != 429
    assert attempt("203.0.113.4", peer="127.0.0.1") == 429


def test_secure_cookies_are_never_sent_over_plain_http(agent):
    from devtone import create_app

    del agent
    app = create_app({"TESTING": True, "SECURE_COOKIES": True, "SESSION_COOKIE_SECURE": True})
    answer = app.test_client().get("/dashboard/login")
    assert "Secure" in answer.headers["Set-Cookie"]
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert "SameSite=Lax" in answer.headers["Set-Cookie"]

"""Resetting a forgotten password over HTTP: an admin makes a one-time link on
/dashboard/agents, its holder chooses a new password and is signed in; every other
session of the agent ends. Bad, used, replaced and expired links change nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from devtone.domain import password_resets
from devtone.domain.models import PasswordReset, utcnow
from devtone.extensions import db
from devtone.web.password_reset import SESSION_TOKEN
from tests.web.reset_steps import (
    choose_password,
    link_on,
    make_link,
    open_link,
    problem_on,
    sign_in_with,
)

NEW_PASSWORD = "a brand new secret"


def stored_links(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(PasswordReset))
        db.session.remove()
    return count


def test_an_admin_makes_a_link_whose_holder_chooses_a_password_and_is_signed_in(
    app, agent, admin, sign_in
):
    maria_before = sign_in(agent)
    boss = sign_in(admin)
    shown = make_link(boss, agent.id)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    assert "Reset link for Maria" in page and "60 minutes" in page
    assert 'id="reset-link-expiry"' in page
    link = link_on(shown)
    assert link.startswith("http://localhost/dashboard/reset/")

    holder = app.test_client()  # Maria, in another browser
    opened = open_link(holder, link)
    assert (opened.status_code, opened.location) == (302, "/dashboard/new-password")
    form = holder.get("/dashboard/new-password")
    assert form.status_code == 200 and agent.email in form.get_data(as_text=True)
    assert link.rsplit("/", 1)[1] not in form.get_data(as_text=True)

    done = choose_password(holder, NEW_PASSWORD)
    assert (done.status_code, done.location) == (302, "/dashboard")
    assert holder.get("/api/dashboard/snapshot").status_code == 200  # signed in
    with holder.session_transaction() as session:
        assert SESSION_TOKEN not in session
    assert maria_before.get("/api/dashboard/snapshot").status_code == 401  # the old session ended
    assert boss.get("/api/dashboard/snapshot").status_code == 200  # nobody else's
    assert sign_in_with(app.test_client(), agent.email, agent.password).status_code == 401
    assert sign_in_with(app.test_client(), agent.email, NEW_PASSWORD).status_code == 302


def test_the_agents_page_offers_a_reset_link_for_each_active_agent_but_no_e_mail_without_smtp(
    app, agent, admin, sign_in
):
    page = sign_in(admin).get("/dashboard/agents").get_data(as_text=True)
    assert page.count("Make a reset link") == 2  # Maria's, and the admin's own
    assert "E-mail a reset link" not in page
    boss = sign_in(admin)
    assert make_link(boss, agent.id, send="email").status_code == 400
    assert stored_links(app) == 0


def test_an_admin_resets_their_own_password_through_a_link(app, admin, sign_in):
    boss = sign_in(admin)
    link = link_on(make_link(boss, admin.id))
    open_link(boss.client, link)
    assert choose_password(boss.client, NEW_PASSWORD).status_code == 302
    assert boss.get("/dashboard/agents").status_code == 200  # signed in again, still an admin
    assert sign_in_with(app.test_client(), admin.email, NEW_PASSWORD).status_code == 302


def test_an_agent_cannot_make_reset_links_for_others_or_themselves(app, agent, make_agent, sign_in):
    lee = make_agent("Lee")
    maria = sign_in(agent)
    for target in (lee.id, agent.id):
        refused = make_link(maria, target)
        assert (refused.status_code, refused.mimetype) == (403, "text/html")  # the dashboard's
    anonymous = app.test_client().post(f"/dashboard/agents/{lee.id}/reset-link")
    assert anonymous.status_code == 302 and "/dashboard/login" in anonymous.location
    assert stored_links(app) == 0


def test_making_a_link_needs_the_csrf_token_and_a_real_agent(app, agent, admin, sign_in):
    boss = sign_in(admin)
    refused = boss.client.post(f"/dashboard/agents/{agent.id}/reset-link")
    assert refused.status_code == 400
    assert make_link(boss, 999_999).status_code == 404
    assert stored_links(app) == 0


def test_a_deactivated_agent_gets_no_link_and_an_earlier_one_stops_working(
    app, agent, admin, sign_in
):
    boss = sign_in(admin)
    link = link_on(make_link(boss, agent.id))
    boss.client.post(
        f"/dashboard/agents/{agent.id}/active", data={"csrf_token": boss.csrf_token, "active": "0"}
    )
    refused = open_link(app.test_client(), link)
    assert (refused.status_code, problem_on(refused)) == (409, "agent_inactive")
    again = make_link(boss, agent.id)
    assert again.status_code == 302
    assert "deactivated" in boss.get("/dashboard/agents").get_data(as_text=True)


def test_a_newer_link_replaces_the_older(app, agent, admin, sign_in):
    boss = sign_in(admin)
    old, new = link_on(make_link(boss, agent.id)), link_on(make_link(boss, agent.id))
    refused = open_link(app.test_client(), old)
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_replaced")
    assert open_link(app.test_client(), new).status_code == 302


def test_a_used_link_shows_why_and_changes_nothing(app, agent, admin, sign_in):
    link = link_on(make_link(sign_in(admin), agent.id))
    first = app.test_client()
    open_link(first, link)
    choose_password(first, NEW_PASSWORD)
    second = app.test_client()
    refused = open_link(second, link)
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_used")
    assert "Your password has not changed" in refused.get_data(as_text=True)
    assert choose_password(second, "the thiefs password").status_code == 404
    assert sign_in_with(app.test_client(), agent.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("token", ["nope", "x" * 300, "%00", "%F0%9F%94%91", "%E2%80%AE%0D%0A"])
def test_an_unknown_link_shows_why(client, token):
    refused = client.get(f"/dashboard/reset/{token}")
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_unknown")
    assert refused.headers["Cache-Control"] == "no-store"


def test_an_expired_link_shows_why(app, agent, admin, sign_in, monkeypatch):
    link = link_on(make_link(sign_in(admin), agent.id))
    later = utcnow() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(password_resets, "utcnow", lambda: later)
    refused = open_link(app.test_client(), link)
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_expired")


def test_a_link_that_expires_while_its_form_is_open_changes_nothing(
    app, agent, admin, sign_in, monkeypatch
):
    link = link_on(make_link(sign_in(admin), agent.id))
    holder = app.test_client()
    open_link(holder, link)
    form = holder.get("/dashboard/new-password")
    assert form.status_code == 200
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(password_resets, "utcnow", lambda: later)
    refused = choose_password(holder, NEW_PASSWORD)
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_expired")
    assert holder.get("/api/dashboard/snapshot").status_code == 401
    assert sign_in_with(app.test_client(), agent.email, agent.password).status_code == 302


def test_the_new_password_page_without_an_opened_link_says_to_open_it(client):
    refused = client.get("/dashboard/new-password")
    assert (refused.status_code, problem_on(refused)) == (404, "reset_link_missing")


@pytest.mark.parametrize(
    ("password", "confirm", "says"),
    [
        (NEW_PASSWORD, "something else", "The two passwords differ."),
        ("short", "short", "between 8 and 1024 characters"),
        ("x" * 1025, "x" * 1025, "between 8 and 1024 characters"),
        ("", "", "This field is required."),
    ],
)
def test_a_new_password_against_the_rules_is_refused_and_the_link_still_works(
    app, agent, admin, sign_in, password, confirm, says
):
    link = link_on(make_link(sign_in(admin), agent.id))
    holder = app.test_client()
    open_link(holder, link)
    refused = choose_password(holder, password, confirm)
    assert refused.status_code == 400
    assert says in refused.get_data(as_text=True)
    assert holder.get("/api/dashboard/snapshot").status_code == 401
    assert choose_password(holder, NEW_PASSWORD).status_code == 302


def test_a_unicode_password_set_through_a_link_signs_in(app, agent, admin, sign_in):
    link = link_on(make_link(sign_in(admin), agent.id))
    holder = app.test_client()
    open_link(holder, link)
    assert choose_password(holder, "señha-日本語-🔑").status_code == 302
    assert sign_in_with(app.test_client(), agent.email, "señha-日本語-🔑").status_code == 302


def test_the_new_password_form_needs_its_csrf_token(app, agent, admin, sign_in):
    link = link_on(make_link(sign_in(admin), agent.id))
    holder = app.test_client()
    open_link(holder, link)
    refused = holder.post(
        "/dashboard/new-password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert refused.status_code == 400
    assert sign_in_with(app.test_client(), agent.email, agent.password).status_code == 302


def test_an_admin_who_opens_an_agents_link_in_their_own_browser_ends_up_signed_in_as_the_agent(
    app, agent, admin, sign_in
):
    boss = sign_in(admin)
    open_link(boss.client, link_on(make_link(boss, agent.id)))
    assert choose_password(boss.client, NEW_PASSWORD).status_code == 302
    assert boss.get("/dashboard/agents").status_code == 403  # Maria now, not an admin
    with app.app_context():
        assert [s["current"] for s in password_resets.agents.open_sessions(admin.identity)] == []


def test_new_passwords_are_rate_limited_per_client_address(app, agent, admin, sign_in):
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    link = link_on(make_link(sign_in(admin), agent.id))
    holder = app.test_client()
    open_link(holder, link)
    for _ in range(2):
        assert choose_password(holder, "short", "short").status_code == 400
    limited = choose_password(holder, NEW_PASSWORD)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert problem_on(limited) == "too_many_requests"
    assert sign_in_with(app.test_client(), agent.email, agent.password).status_code == 302


def test_the_sign_in_page_leads_to_a_forgotten_password_page_that_says_to_ask_an_admin(client):
    assert 'href="/dashboard/forgot-password"' in client.get("/dashboard/login").get_data(
        as_text=True
    )
    page = client.get("/dashboard/forgot-password")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ask an administrator of your team for a reset link" in text
    assert "<form" not in text  # no e-mail configured: nothing to send

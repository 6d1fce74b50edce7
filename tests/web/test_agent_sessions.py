"""Agent sessions live on the server: signing out ends one for good (a copied cookie opens
nothing), "Sign out everywhere" ends them all, and open streams end with them."""

import pytest

from devtone.domain import agents
from devtone.errors import Forbidden
from tests.feeds.test_dashboard_feed import DashboardStream


def copy_of(signed_in, app):
    """Another browser holding a copy of `signed_in`'s session cookie."""
    thief = app.test_client()
    cookie = signed_in.client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_stops_working_when_its_browser_signs_out(app, agent, sign_in):
    maria = sign_in(agent)
    thief = copy_of(maria, app)
    assert thief.get("/api/dashboard/snapshot").status_code == 200
    maria.client.post("/dashboard/logout", data={"csrf_token": maria.csrf_token})
    assert thief.get("/api/dashboard/snapshot").status_code == 401
    assert thief.get("/dashboard").status_code == 302


def test_signing_out_in_one_browser_keeps_the_others_signed_in(app, agent, sign_in):
    laptop, phone = sign_in(agent), sign_in(agent)
    phone.client.post("/dashboard/logout", data={"csrf_token": phone.csrf_token})
    assert laptop.get("/api/dashboard/snapshot").status_code == 200
    assert phone.get("/api/dashboard/snapshot").status_code == 401


def test_the_account_page_lists_the_browsers_and_signs_out_of_every_one(app, agent, sign_in):
    laptop, phone = sign_in(agent), sign_in(agent)
    page = laptop.get("/dashboard/account").get_data(as_text=True)
    assert page.count("<tr") == 3  # the head and two browsers
    assert "this browser" in page
    answer = laptop.client.post(
        "/dashboard/account/sign-out-everywhere", data={"csrf_token": laptop.csrf_token}
    )
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/login")
    assert laptop.get("/api/dashboard/snapshot").status_code == 401
    assert phone.get("/api/dashboard/snapshot").status_code == 401
    assert sign_in(agent).get("/api/dashboard/snapshot").status_code == 200  # signs in again


def test_sign_out_everywhere_needs_the_csrf_token(app, agent, sign_in):
    maria = sign_in(agent)
    assert maria.client.post("/dashboard/account/sign-out-everywhere").status_code == 400
    assert maria.get("/api/dashboard/snapshot").status_code == 200


def test_an_admin_signs_an_agent_out_everywhere_and_an_agent_cannot(
    app, agent, admin, make_agent, sign_in
):
    maria, boss = sign_in(agent), sign_in(admin)
    joao = sign_in(make_agent("João"))
    refused = joao.client.post(
        f"/dashboard/agents/{agent.id}/sessions/end", data={"csrf_token": joao.csrf_token}
    )
    assert refused.status_code == 403
    assert maria.get("/api/dashboard/snapshot").status_code == 200
    done = boss.client.post(
        f"/dashboard/agents/{agent.id}/sessions/end", data={"csrf_token": boss.csrf_token}
    )
    assert done.status_code == 302
    assert maria.get("/api/dashboard/snapshot").status_code == 401
    assert boss.get("/api/dashboard/snapshot").status_code == 200
    assert "Signed out of 1 browser." in boss.get("/dashboard/agents").get_data(as_text=True)
    with app.app_context(), pytest.raises(Forbidden):
        agents.end_every_session(admin.id, agent.identity)


def test_an_open_dashboard_stream_of_an_ended_session_ends_at_the_next_heartbeat(
    app, agent, sign_in
):
    maria = sign_in(agent)
    stream = DashboardStream(maria)
    try:
        stream.until("snapshot")
        maria.client.post(
            "/dashboard/account/sign-out-everywhere", data={"csrf_token": maria.csrf_token}
        )
        frames = list(stream.frames)  # the stream ends by itself
    finally:
        stream.close()
    assert len(frames) <= 2  # at most the heartbeat that was due


def test_a_deactivated_agent_reactivated_signs_in_again(app, agent, admin, sign_in):
    maria = sign_in(agent)
    with app.app_context():
        agents.set_active(agent.id, False, admin.identity)
        agents.set_active(agent.id, True, admin.identity)
    assert maria.get("/api/dashboard/snapshot").status_code == 401  # that session is over
    assert sign_in(agent).get("/api/dashboard/snapshot").status_code == 200


def test_the_session_signer_is_made_once_and_again_when_the_key_changes(app, agent, sign_in):
    sessions = app.session_interface
    maria = sign_in(agent)
    signer = sessions.get_signing_serializer(app)
    assert maria.get("/api/dashboard/snapshot").status_code == 200
    assert sessions.get_signing_serializer(app) is signer  # kept across requests
    old_key = app.secret_key
    app.secret_key = "another key, rotated in"
    assert sessions.get_signing_serializer(app) is not signer
    assert maria.get("/api/dashboard/snapshot").status_code == 401  # old cookie: unsigned
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert maria.get("/api/dashboard/snapshot").status_code == 200  # the old key, kept

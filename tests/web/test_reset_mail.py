"""Reset links by e-mail, against a real SMTP server on a loopback port: asked for from
the sign-in page (one answer for every address), or sent by an admin, who is told at once
when the mail server cannot take it."""

import logging
import socket
import time

import pytest

from tests.conftest import _CSRF_INPUT, app_on, counted_in_redis
from tests.mail_server import MailServer
from tests.web.reset_steps import (
    ask_for_a_link,
    choose_password,
    link_in,
    link_on,
    make_link,
    open_link,
    sign_in_with,
)

SENDER = "Support <support@example.com>"
NEW_PASSWORD = "a brand new secret"
CREDENTIALS = ("devtone@example.com", "p@ss/w:rd")


@pytest.fixture
def smtp_url(request):
    """The DEVTONE_SMTP_URL of the test's app: a working server unless the test asks, by
    parametrizing this fixture, for one that refuses, never answers, or wants a login."""
    kind = getattr(request, "param", "working")
    if kind == "working":
        return request.getfixturevalue("mail_server").url
    if kind == "silent":
        return f"smtp://127.0.0.1:{request.getfixturevalue('silent_server').port}"
    if kind == "refused":
        return request.getfixturevalue("refused_smtp_url")
    guarded = request.getfixturevalue("guarded_mail_server")
    password = "wrong" if kind == "wrong login" else "p%40ss%2Fw%3Ard"
    return f"smtp://devtone%40example.com:{password}@127.0.0.1:{guarded.port}"


@pytest.fixture
def refused_smtp_url():
    """A port bound by us that never listens: connections to it are refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"smtp://127.0.0.1:{holder.getsockname()[1]}"


@pytest.fixture
def guarded_mail_server():
    """An SMTP server that takes mail only after a login with CREDENTIALS."""
    server = MailServer(credentials=CREDENTIALS).start()
    yield server
    server.stop()


@pytest.fixture
def app(database_url, redis_url, redis_channel, smtp_url):
    """The usual app, with e-mail on and a short SMTP timeout."""
    with app_on(
        database_url,
        redis_url,
        redis_channel,
        **counted_in_redis(redis_url, redis_channel),
        SMTP_URL=smtp_url,
        MAIL_FROM=SENDER,
        SMTP_TIMEOUT=1.0,
    ) as app:
        yield app


def neutral(page, address):
    """The page with the address it repeats and its CSRF token taken out."""
    return _CSRF_INPUT.sub("", page.get_data(as_text=True)).replace(address, "ADDRESS")


def test_a_forgotten_password_is_reset_through_the_e_mailed_link(app, agent, mail_server):
    asked = ask_for_a_link(app.test_client(), agent.email.upper())
    assert asked.status_code == 200
    assert "is on its way there" in asked.get_data(as_text=True)
    [email] = mail_server.wait_for(1)
    assert email["To"] == "Maria <maria@example.com>"
    assert email["From"] == SENDER
    assert email["Subject"] == "Reset your devtone password"
    assert "60 minutes" in email.get_content()
    link = link_in(email)
    assert link.startswith("http://localhost/dashboard/reset/")

    holder = app.test_client()
    assert open_link(holder, link).status_code == 302
    assert choose_password(holder, NEW_PASSWORD).status_code == 302
    assert holder.get("/api/dashboard/snapshot").status_code == 200
    assert sign_in_with(app.test_client(), agent.email, NEW_PASSWORD).status_code == 302


def test_the_answer_is_the_same_for_every_address_and_only_active_agents_get_mail(
    app, agent, admin, make_agent, sign_in, mail_server
):
    lee = make_agent("Lee")
    boss = sign_in(admin)
    boss.client.post(
        f"/dashboard/agents/{lee.id}/active", data={"csrf_token": boss.csrf_token, "active": "0"}
    )
    answers = {
        address: ask_for_a_link(app.test_client(), address)
        for address in ("nobody@example.com", lee.email, "ção@exemplo.com.br", agent.email)
    }
    assert {answer.status_code for answer in answers.values()} == {200}
    assert len({neutral(answer, address) for address, answer in answers.items()}) == 1
    # Maria asked last: hers is the only e-mail, the others sent nothing at all.
    [email] = mail_server.wait_for(1)
    assert email["To"].addresses[0].addr_spec == agent.email
    assert len(mail_server.messages) == 1


def test_the_forgot_form_refuses_what_is_not_an_address_without_sending(app, agent, mail_server):
    client = app.test_client()
    page = client.get("/dashboard/forgot-password").get_data(as_text=True)
    assert "Send me a link" in page
    token = _CSRF_INPUT.search(page).group(1)
    for form in ({"email": "", "csrf_token": token}, {"email": agent.email}):
        assert client.post("/dashboard/forgot-password", data=form).status_code == 400
    ask_for_a_link(client, "x" * 300 + "@example.com")
    ask_for_a_link(client, agent.email)
    assert len(mail_server.wait_for(1)) == 1


def test_reset_e_mails_are_limited_per_address_asked_for(app, agent, make_agent, mail_server):
    app.config["RESET_EMAIL_RATE_LIMIT"] = "1 per minute"
    lee = make_agent("Lee")
    assert ask_for_a_link(app.test_client(), agent.email).status_code == 200
    refused = ask_for_a_link(app.test_client(), f" {agent.email.upper()}")
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert ask_for_a_link(app.test_client(), lee.email).status_code == 200
    assert sorted(m["To"].addresses[0].addr_spec for m in mail_server.wait_for(2)) == [
        "lee@example.com",
        "maria@example.com",
    ]


def test_reset_requests_are_limited_per_client_address(app, agent, mail_server):
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    for n in range(2):
        assert ask_for_a_link(client, f"guess{n}@example.com").status_code == 200
    assert ask_for_a_link(client, agent.email).status_code == 429
    assert ask_for_a_link(client, agent.email, address="198.51.100.7").status_code == 200
    assert len(mail_server.wait_for(1)) == 1


def test_an_admin_e_mails_a_link_to_an_agent(app, agent, admin, sign_in, mail_server):
    boss = sign_in(admin)
    assert "E-mail a reset link" in boss.get("/dashboard/agents").get_data(as_text=True)
    sent = make_link(boss, agent.id, send="email")
    assert (sent.status_code, sent.location) == (302, "/dashboard/agents")
    assert "A reset link is on its way to maria@example.com." in boss.get(
        "/dashboard/agents"
    ).get_data(as_text=True)
    [email] = mail_server.wait_for(1)
    assert email["To"] == "Maria <maria@example.com>"
    holder = app.test_client()
    open_link(holder, link_in(email))
    assert choose_password(holder, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("smtp_url", "reason"), [("refused", "refused"), ("silent", "timeout")], indirect=["smtp_url"]
)
def test_when_the_mail_server_fails_the_admin_is_told_why_and_can_copy_the_link(
    app, agent, admin, sign_in, reason
):
    boss = sign_in(admin)
    started = time.monotonic()
    failed = make_link(boss, agent.id, send="email")
    assert time.monotonic() - started < 5  # the SMTP timeout (1 s here) bounds the wait
    assert failed.status_code == 502
    page = failed.get_data(as_text=True)
    assert f'data-reason="{reason}"' in page
    assert "could not be sent" in page and "Copy the link below" in page
    holder = app.test_client()
    open_link(holder, link_on(failed))
    assert choose_password(holder, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("smtp_url", ["refused"], indirect=True)
def test_when_the_mail_server_is_down_the_forgot_form_answers_the_same_and_logs_it(
    app, agent, caplog
):
    with caplog.at_level(logging.WARNING, logger="devtone.mail"):
        asked = ask_for_a_link(app.test_client(), agent.email)
        unknown = ask_for_a_link(app.test_client(), "nobody@example.com")
        assert asked.status_code == 200
        assert neutral(asked, agent.email) == neutral(unknown, "nobody@example.com")
        deadline = time.monotonic() + 10
        while "not sent" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "Reset your devtone password" in caplog.text and "refused" in caplog.text
    assert "maria@example.com" not in caplog.text  # who asked stays out of the log


@pytest.mark.parametrize("smtp_url", ["login"], indirect=True)
def test_the_user_name_and_password_in_the_smtp_url_are_used(
    app, agent, admin, sign_in, guarded_mail_server
):
    assert make_link(sign_in(admin), agent.id, send="email").status_code == 302
    assert guarded_mail_server.logins == [CREDENTIALS]
    assert len(guarded_mail_server.wait_for(1)) == 1


@pytest.mark.parametrize("smtp_url", ["wrong login"], indirect=True)
def test_a_refused_login_at_the_mail_server_is_shown_to_the_admin(
    app, agent, admin, sign_in, guarded_mail_server
):
    failed = make_link(sign_in(admin), agent.id, send="email")
    assert failed.status_code == 502
    assert 'data-reason="sign_in"' in failed.get_data(as_text=True)
    assert guarded_mail_server.messages == []


def test_e_mailed_links_point_at_the_public_url_whatever_host_the_request_named(
    app, agent, mail_server
):
    app.config["PUBLIC_URL"] = "https://support.example.com"
    client = app.test_client()
    page = client.get("/dashboard/forgot-password", headers={"Host": "evil.example"})
    token = _CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    client.post(
        "/dashboard/forgot-password",
        data={"email": agent.email, "csrf_token": token},
        headers={"Host": "evil.example"},
    )
    link = link_in(mail_server.wait_for(1)[0])
    assert link.startswith("https://support.example.com/dashboard/reset/")

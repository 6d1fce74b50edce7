"""Outgoing e-mail: DEVTONE_SMTP_URL read into a server, and messages sent to a real SMTP
server on a loopback port (which never falls back to plain text when TLS was asked for)."""

import pytest

from devtone import create_app, mail
from devtone.mail import Mailer, MailNotSent, SmtpServer, compose, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://127.0.0.1", SmtpServer("127.0.0.1", 25, "plain")),
        ("smtp+starttls://mail.example.com", SmtpServer("mail.example.com", 587, "starttls")),
        ("smtps://mail.example.com", SmtpServer("mail.example.com", 465, "tls")),
        ("smtps://mail.example.com:2465/", SmtpServer("mail.example.com", 2465, "tls")),
        (
            "smtps://bot%40example.com:p%40ss%2Fw%3Ard@mail.example.com",
            SmtpServer("mail.example.com", 465, "tls", "bot@example.com", "p@ss/w:rd"),
        ),
        ("smtp://bot:@[::1]:1025", SmtpServer("::1", 1025, "plain", "bot", "")),
    ],
)
def test_an_smtp_url_names_the_server_its_protection_and_login(url, server):
    assert parse_smtp_url(url) == server


def test_the_smtp_password_never_shows_in_a_repr():
    assert "hunter2" not in repr(parse_smtp_url("smtps://bot:hunter2@mail.example.com"))


def test_e_mail_is_off_without_an_smtp_url_and_on_with_one(tmp_path):
    assert mail.mailer_of(create_app({"TESTING": True})) is None
    app = create_app(
        {"TESTING": True, "SMTP_URL": "smtps://mail.example.com", "MAIL_FROM": "a@example.com"}
    )
    mailer = mail.mailer_of(app)
    assert (mailer.server.host, mailer.sender, mailer.timeout) == (
        "mail.example.com",
        "a@example.com",
        10,
    )


def test_a_message_reaches_the_smtp_server_with_its_headers_and_unicode_text(mail_server):
    mailer = Mailer(parse_smtp_url(mail_server.url), "Support <support@example.com>", 2)
    mailer.send(
        compose("Support <support@example.com>", "João <joao@example.com>", "Olá 👋", "Ação ✓")
    )
    [received] = mail_server.wait_for(1)
    assert (received["To"], received["Subject"]) == ("João <joao@example.com>", "Olá 👋")
    assert received.get_content().strip() == "Ação ✓"


def test_a_message_sent_later_reaches_the_server_too(mail_server):
    mailer = Mailer(parse_smtp_url(mail_server.url), "a@example.com", 2)
    mailer.send_later(compose("a@example.com", "b@example.com", "Later", "body"))
    assert mail_server.wait_for(1)[0]["Subject"] == "Later"


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_a_server_without_tls_gets_nothing_when_tls_was_asked_for(mail_server, scheme):
    url = mail_server.url.replace("smtp://", f"{scheme}://")
    mailer = Mailer(parse_smtp_url(url), "a@example.com", 2)
    with pytest.raises(MailNotSent) as failed:
        mailer.send(compose("a@example.com", "b@example.com", "Secret", "body"))
    assert failed.value.reason == "failed"
    assert mail_server.messages == []

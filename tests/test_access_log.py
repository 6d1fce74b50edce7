"""Access logs redact visitor tokens, whatever carries them."""

import logging
from datetime import timedelta

from devtone.access_log import REDACTED, RedactingFilter, RedactingLogger, redact

TOKEN = "Zk3v9Qw2_xY8-abcdefghijklmnopqrstuvwxyz0123"


def test_a_token_in_a_request_line_is_redacted_and_the_rest_kept():
    line = f"GET /api/conversations/7/events?after=3&token={TOKEN}&x=1 HTTP/1.1"
    assert redact(line) == "GET /api/conversations/7/events?after=3&token=<redacted>&x=1 HTTP/1.1"


def test_a_token_first_in_a_query_string_is_redacted():
    assert redact(f"token={TOKEN}&wait=25") == "token=<redacted>&wait=25"


def test_a_percent_encoded_token_name_is_redacted_too():
    assert TOKEN not in redact(f"GET /x?%74oken={TOKEN} HTTP/1.1")


def test_bearer_credentials_are_redacted():
    assert redact(f"Bearer {TOKEN}") == "Bearer <redacted>"


def test_a_password_reset_links_token_is_redacted_in_the_path_and_the_referer():
    line = (
        f'"GET /dashboard/reset/{TOKEN} HTTP/1.1" 302 "http://devtone.example'
        f'/dashboard/reset/{TOKEN}?x=1"'
    )
    assert redact(line) == (
        '"GET /dashboard/reset/<redacted> HTTP/1.1" 302 "http://devtone.example'
        '/dashboard/reset/<redacted>?x=1"'
    )


def test_an_e_mailed_links_reopen_token_is_redacted_wherever_it_went():
    link = "eyJjIjo3fQ.aVRz2A.Q2ZoNlBJb3pXbGxzVXh0"
    for line in (
        f"GET /chat?reopen={link} HTTP/1.1",
        f'"GET /chat HTTP/1.1" 200 "https://support.example.com/chat#reopen={link}"',
    ):
        assert link not in redact(line)


def test_other_parameters_are_left_alone():
    line = "GET /api/conversations/7/messages?after=3&wait=25&tokens=2 HTTP/1.1"
    assert redact(line) == line


def test_gunicorns_access_atoms_hold_no_token():
    class Config:
        access_log_format = '%(h)s "%(r)s" %(s)s "%(f)s"'

    class Answer:
        status = "200 OK"
        headers = [("Content-Type", "text/event-stream")]
        sent = 10

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/conversations/1/events?token={TOKEN}",
        "PATH_INFO": "/api/conversations/1/events",
        "QUERY_STRING": f"token={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
    }
    logger = RedactingLogger.__new__(RedactingLogger)
    logger.cfg = Config()
    atoms = logger.atoms(Answer(), [("Authorization", f"Bearer {TOKEN}")], environ, timedelta(0))
    assert not any(TOKEN in str(value) for value in atoms.values())
    assert atoms["q"] == "token=<redacted>"


def test_the_make_run_access_logger_redacts_its_lines(caplog):
    logger = logging.getLogger("devtone.test_access")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="devtone.test_access"):
        # gevent's server logs whole, preformatted lines like this one.
        logger.info('127.0.0.1 - - [x] "GET /api/conversations/1/events?token=%s HTTP/1.1"', TOKEN)
    assert TOKEN not in caplog.text
    assert "token=<redacted>" in caplog.text


def test_the_visitor_an_export_names_is_redacted():
    line = "GET /api/visitors/export?email=zoe%40example.com HTTP/1.1"
    assert redact(line) == f"GET /api/visitors/export?email={REDACTED} HTTP/1.1"

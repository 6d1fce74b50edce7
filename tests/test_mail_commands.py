"""The e-mail to visitors as operators run it: `make run` sends it with no other process,
`flask mail-out` sends it alone, `flask mail-in` receives the replies; each started as a
real process, stopped with Ctrl-C by its PID."""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from devtone import create_app
from devtone.domain import agents, conversation_links, conversations
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import Message
from devtone.extensions import db
from tests.servers import ROOT, hear_ctrl_c, stop_process

pytestmark = pytest.mark.live

MAIL_FROM = "Support <support@example.com>"


def clean_env(tmp_path, **settings):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DEVTONE_INSTANCE_PATH=str(tmp_path / "instance"), **settings)
    return env


def start(command, env, ready):
    """Start `command`, wait for a line holding `ready`; (process, lines)."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, preexec_fn=hear_ctrl_c,
    )  # fmt: skip
    lines: list[str] = []
    found = threading.Event()

    def watch():
        for line in process.stdout:
            lines.append(line)
            if ready in line:
                found.set()

    threading.Thread(target=watch, daemon=True).start()
    if not found.wait(30):
        stop_process(process, signal.SIGINT)
        pytest.fail("".join(lines))
    return process, lines


def the_app(env):
    """An app in this process on the same database and secret as the process started."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return create_app({"TESTING": True})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def unseen_reply(app, body="We found your order."):
    """A conversation of a visitor with an address, and an agent reply left unseen."""
    with app.app_context():
        conversation, _ = conversations.start_conversation("Ada", "ada@example.com")
        added = agents.create_agent("maria@example.com", "Maria", "correct horse battery")
        maria = AgentIdentity(added["id"], added["email"], added["name"], "agent")
        conversations.post_message(conversation["id"], maria, body)
    return conversation["id"]


def test_make_run_sends_the_visitors_e_mail_with_no_other_process(tmp_path, mail_server):
    env = clean_env(
        tmp_path, DEVTONE_PORT="0", DEVTONE_SMTP_URL=mail_server.url, DEVTONE_MAIL_FROM=MAIL_FROM,
        DEVTONE_EMAIL_AFTER="0.5", DEVTONE_MAIL_CHECK_EVERY="0.2",
    )  # fmt: skip
    process, lines = start([sys.executable, "wsgi.py"], env, "Agents sign in at")
    try:
        unseen_reply(the_app(env))
        [received] = mail_server.wait_for(1, timeout=30)
        assert "We found your order." in received.get_content()
    finally:
        stop_process(process, signal.SIGINT, grace=15)
    assert process.returncode is not None


def test_flask_mail_out_sends_alone_and_stops_on_ctrl_c(tmp_path, mail_server):
    env = clean_env(
        tmp_path, DEVTONE_SMTP_URL=mail_server.url, DEVTONE_MAIL_FROM=MAIL_FROM,
        DEVTONE_EMAIL_AFTER="0.5", DEVTONE_MAIL_CHECK_EVERY="0.2",
    )  # fmt: skip
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "--app", "devtone", "init-db"], cwd=ROOT, env=env, check=True)
    process, _ = start([flask, "--app", "devtone", "mail-out"], env, "Ctrl-C stops")
    try:
        unseen_reply(the_app(env))
        assert len(mail_server.wait_for(1, timeout=30)) == 1
    finally:
        stop_process(process, signal.SIGINT, grace=15)
    time.sleep(0.5)
    assert len(mail_server.messages) == 1


def test_flask_mail_out_says_when_e_mail_is_off(tmp_path):
    flask = str(Path(sys.executable).with_name("flask"))
    done = subprocess.run(
        [flask, "--app", "devtone", "mail-out"], cwd=ROOT, env=clean_env(tmp_path),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "DEVTONE_SMTP_URL" in done.stderr


def a_free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_flask_mail_in_posts_a_reply_into_its_conversation(tmp_path):
    env = clean_env(tmp_path, DEVTONE_MAIL_REPLY_TO="reply@support.example.com")
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "--app", "devtone", "init-db"], cwd=ROOT, env=env, check=True)
    app = the_app(env)
    with app.app_context():
        conversation, _ = conversations.start_conversation("Ada", "ada@example.com")
        address = conversation_links.reply_address(conversation["id"], "reply@support.example.com")
    port = a_free_port()
    command = [flask, "--app", "devtone", "mail-in", "--port", str(port)]
    process, _ = start(command, env, "Ctrl-C stops")
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "ada@example.com", address, "Re"
        message.set_content("Thank you!\n\nOn Mon, Dec 7, 2026 Support wrote:\n> Done.\n")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        stop_process(process, signal.SIGINT, grace=15)
    with app.app_context():
        bodies = db.session.scalars(
            select(Message.body).where(Message.conversation_id == conversation["id"])
        ).all()
    assert bodies == ["Thank you!"]

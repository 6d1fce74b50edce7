"""`flask --app devtone init-db`, and the embedded server behind `make run`."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from devtone import cli, create_app
from devtone.extensions import db
from tests.conftest import _CSRF_INPUT
from tests.servers import hear_ctrl_c

ROOT = Path(__file__).resolve().parent.parent


def test_init_db_creates_the_schema_and_the_instance_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Schema ready" in result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'devtone.sqlite3'}")
    assert {"conversations", "messages"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert (tmp_path / "secret_key").exists()
    # Running it again changes nothing and does not fail.
    again = app.test_cli_runner().invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    # The migrations turned SQLite's foreign keys off for their table rebuilds; the
    # connections the app goes on using (make run migrates in-process) have them on.
    from devtone.extensions import db

    with app.app_context():
        for _ in range(3):
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            db.session.remove()
        db.engine.dispose()


@pytest.mark.live  # starts `python wsgi.py`
def test_make_run_serves_the_chat_with_no_other_service(tmp_path):
    """What `make run` starts (`python wsgi.py`), on a fresh instance folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DEVTONE_INSTANCE_PATH=str(tmp_path / "instance"), DEVTONE_PORT="0")
    process = subprocess.Popen(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C, as a newcomer stops it: a suite started in the background (`cmd &` in a
        # script) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=hear_ctrl_c,
    )
    lines: list[str] = []
    found = threading.Event()

    def watch():
        for line in process.stdout:
            lines.append(line)
            if "Agents sign in at" in line:
                found.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert found.wait(30), "".join(lines)
        url = re.search(r"http://\S+/chat", "".join(lines)).group(0)
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        assert 'id="chat"' in page.text
        started = requests.post(
            url.replace("/chat", "/api/conversations"), json={"name": "Ada"}, timeout=10
        )
        assert started.status_code == 201
        assert (tmp_path / "instance" / "devtone.sqlite3").exists()
        # The demo administrator, whose password is printed once, signs in.
        demo = re.search(r"as (\S+) with the password (\S+)", "".join(lines))
        session = requests.Session()
        login = url.replace("/chat", "/dashboard/login")
        form = session.get(login, timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        signed = session.post(
            login,
            data={"email": demo.group(1), "password": demo.group(2), "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 302
        assert session.get(url.replace("/chat", "/dashboard"), timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()  # ours, by its PID: never left running after the test
                process.wait()
            watcher.join(timeout=5)


def test_make_run_on_a_port_in_use_says_which_and_how_to_choose_another(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env.update(DEVTONE_INSTANCE_PATH=str(tmp_path / "instance"), DEVTONE_PORT=str(port))
        finished = subprocess.run(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
    said = finished.stdout + finished.stderr
    assert finished.returncode == 1
    assert f"127.0.0.1:{port}" in said and "already in use" in said
    assert f"DEVTONE_PORT={port + 1}" in said
    assert "Traceback" not in said


def test_create_agent_adds_an_agent_who_can_sign_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-agent", "Lee@Example.com", "--name", "Lee", "--admin"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "lee@example.com (admin) can now sign in" in result.output
    with app.app_context():
        from devtone.domain import agents

        signed = agents.authenticate("lee@example.com", "a long password")
    assert (signed.name, signed.role) == ("Lee", "admin")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["create-agent", "not-an-address", "--name", "X", "--password", "long enough"],
            "e-mail address is not valid",
        ),
        (["create-agent", "x@example.com", "--name", "X", "--password", "short"], "8"),
        (["create-agent", "x@example.com", "--name", " ", "--password", "long enough"], "name"),
    ],
)
def test_create_agent_refuses_bad_input_with_a_clear_message(app, args, message):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_create_agent_refuses_a_taken_address(app, agent):
    result = app.test_cli_runner().invoke(
        args=["create-agent", agent.email, "--name", "Twin", "--password", "long enough"]
    )
    assert result.exit_code != 0
    assert "exists" in result.output


def _signed_in_cookie(app, email, password):
    client = app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = _CSRF_INPUT.search(page).group(1)
    answer = client.post(
        "/dashboard/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client.get_cookie("session").value


def test_a_fresh_install_keeps_its_agents_signed_in_across_its_first_restart(tmp_path, monkeypatch):
    """`make run`'s first start builds the app, then writes instance/secret_key: the cookies
    it signs from then on must open the dashboard after a restart."""
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path))
    assert not (tmp_path / "secret_key").exists()
    first = create_app()
    cli.init_db(first)  # what the embedded server does before it serves
    password = cli.ensure_demo_agent(first)
    cookie = _signed_in_cookie(first, cli.DEMO_EMAIL, password)

    restarted = create_app()
    client = restarted.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/dashboard").status_code == 200
    assert restarted.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    for app in (first, restarted):
        with app.app_context():
            db.engine.dispose()


def test_a_secret_from_the_environment_is_never_replaced_by_the_instance_one(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    app = create_app()
    cli.init_db(app)
    assert app.config["SECRET_KEY"] == "s" * 40
    with app.app_context():
        db.engine.dispose()

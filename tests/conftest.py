"""Fixtures: an app with its own database per test, on SQLite and (when configured) on
PostgreSQL; a client; visitors made through the domain; real servers on loopback ports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine, make_url, text

from devtone import agents, config, conversations, create_app
from devtone.agents import AgentIdentity
from devtone.extensions import db

ROOT = Path(__file__).resolve().parent.parent
ON_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("DEVTONE_TEST_REDIS_URL")
_PG_ENV = os.environ.get("DEVTONE_TEST_DATABASE_URL")
PG_URL = config.database_url(_PG_ENV) if _PG_ENV else None
_ENV_KEYS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


def require(condition: bool, reason: str) -> None:
    """Skip with `reason` on a machine without the service; fail under CI=true."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason=reason)


@pytest.fixture(autouse=True)
def _reset_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own DEVTONE_*/DATABASE_URL out of every test."""
    for key in list(os.environ):
        if key.startswith("DEVTONE_") and not key.startswith("DEVTONE_TEST_"):
            monkeypatch.delenv(key)
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


# -- storage backends -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own: a SQLite file, or a PostgreSQL database
    created for this test and dropped after it (so live servers and concurrent
    connections see real commits, and nothing leaks between tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'devtone.sqlite3'}"
        return
    require(PG_URL is not None, "DEVTONE_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    name = f"devtone_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url(database_url: str) -> str | None:
    """Redis goes with PostgreSQL (the production pair), the in-process broker with SQLite."""
    if database_url.startswith("sqlite"):
        return None
    require(REDIS_URL is not None, "DEVTONE_TEST_REDIS_URL is not set (Redis broker tests)")
    return REDIS_URL


@pytest.fixture
def redis_channel() -> str:
    """A pub/sub channel of the test's own: Redis channels ignore the database number."""
    return f"devtone:test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app(database_url: str, redis_url: str | None, redis_channel: str):
    """A devtone app on its own database (and Redis channel), schema created, short timings."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "REDIS_CHANNEL": redis_channel,
            "SSE_HEARTBEAT": 0.2,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    app.extensions["devtone.heads"].close()
    app.extensions["devtone.broker"].close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def broker(app):
    return app.extensions["devtone.broker"]


# -- data through the domain ------------------------------------------------------------


@dataclass
class VisitorSession:
    """A visitor's conversation and the credentials to act on it."""

    conversation: dict
    token: str

    @property
    def id(self) -> int:
        return self.conversation["id"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def start_visitor(app):
    """Start conversations through the domain, as `POST /api/conversations` would."""

    def start(name: str = "Ada", email: str | None = None) -> VisitorSession:
        with app.app_context():
            conversation, token = conversations.start_conversation(name, email)
        return VisitorSession(conversation, token)

    return start


@pytest.fixture
def visitor(start_visitor) -> VisitorSession:
    return start_visitor()


AGENT_PASSWORD = "correct horse battery"


@dataclass
class AgentAccount:
    """An agent made through the domain, with the password to sign in."""

    identity: AgentIdentity
    password: str = AGENT_PASSWORD

    @property
    def id(self) -> int:
        return self.identity.id

    @property
    def email(self) -> str:
        return self.identity.email


@pytest.fixture
def make_agent(app):
    """Add agents through the domain, as `flask create-agent` would."""

    def make(name: str = "Maria", role: str = "agent", email: str | None = None) -> AgentAccount:
        address = email or f"{name.lower().replace(' ', '.')}@example.com"
        with app.app_context():
            added = agents.create_agent(address, name, AGENT_PASSWORD, role)
        return AgentAccount(AgentIdentity(added["id"], added["email"], added["name"], role))

    return make


@pytest.fixture
def agent(make_agent) -> AgentAccount:
    return make_agent("Maria")


@pytest.fixture
def admin(make_agent) -> AgentAccount:
    return make_agent("Ada Admin", role="admin")


_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class AgentClient:
    """A test client signed in as an agent, sending the CSRF header on unsafe calls."""

    def __init__(self, client, account: AgentAccount):
        self.client = client
        self.account = account
        page = client.get("/dashboard/login")
        self.csrf_token = _CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
        answer = client.post(
            "/dashboard/login",
            data={
                "email": account.email,
                "password": account.password,
                "csrf_token": self.csrf_token,
            },
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: object = None, **kwargs):
        headers = {"X-CSRFToken": self.csrf_token, **kwargs.pop("headers", {})}
        return self.client.post(path, json=json, headers=headers, **kwargs)


@pytest.fixture
def sign_in(app):
    """Sign an agent in on a fresh test client."""

    def sign_in(account: AgentAccount) -> AgentClient:
        return AgentClient(app.test_client(), account)

    return sign_in


def stored_counts(app) -> tuple[int, ...]:
    """(conversations, messages, sum of last_seq, sum of version): what a rejected request
    must not move."""
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT (SELECT count(*) FROM conversations),"
                " (SELECT count(*) FROM messages),"
                " (SELECT coalesce(sum(last_seq), 0) FROM conversations),"
                " (SELECT coalesce(sum(version), 0) FROM conversations)"
            )
        ).one()
        db.session.remove()
    return tuple(int(x) for x in row)


# -- real servers on loopback ports -----------------------------------------------------


def stop_process(process: subprocess.Popen | None, signum: int, grace: float = 5) -> None:
    """Stop a process this test started, by its PID: `signum`, then SIGKILL after `grace` s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_until_healthy(
    url: str, process: subprocess.Popen, log: Path, on_timeout=None, seconds: float = 30
) -> None:
    """Poll `url`/healthz until it answers; fail with the process's log if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited:\n{log.read_text() if log.exists() else ''}")
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    if on_timeout is not None:
        on_timeout()
    pytest.fail(f"{url} did not answer within {seconds} s:\n{log.read_text()}")


class LiveServer:
    """A gunicorn + gevent devtone on a loopback port that survives restarts.

    The test binds port 0 and hands the listening socket to gunicorn (`fd://`), so the
    port is ours from the start (no race for a "free" port) and stays the same across
    `stop()` and `start()`: clients see a server that went away and came back.
    """

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2048)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "--worker-class",
                    "gevent",
                    "--workers",
                    "1",
                    "--worker-connections",
                    "2000",
                    "--graceful-timeout",
                    "2",
                    "--bind",
                    f"fd://{self.listener.fileno()}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                pass_fds=(self.listener.fileno(),),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_healthy(self.url, self.process, self.log, on_timeout=self.stop)
        return self

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, grace=10)

    def close(self) -> None:
        self.stop()
        self.listener.close()


@pytest.fixture
def live_server(app, tmp_path: Path) -> Iterator:
    """Start servers on the test's database: `live_server(**env)` → LiveServer."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        environment = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            **({"REDIS_URL": app.config["REDIS_URL"]} if app.config["REDIS_URL"] else {}),
            "DEVTONE_REDIS_CHANNEL": app.config["REDIS_CHANNEL"],
            "DEVTONE_INSTANCE_PATH": str(tmp_path / "instance"),
            "DEVTONE_SSE_HEARTBEAT": "0.5",
            # A test plays many customers from one address (127.0.0.1), hundreds of
            # messages and streams on one conversation: load, not abuse. The limits have
            # tests of their own, which lower these.
            "DEVTONE_CONVERSATION_RATE_LIMIT": "100000 per minute",
            "DEVTONE_MESSAGE_RATE_LIMIT": "100000 per minute",
            "DEVTONE_STREAMS_PER_CONVERSATION": "100000",
            **env,
        }
        server = LiveServer(environment, tmp_path / f"gunicorn-{len(started)}.log")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream devtone {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://devtone;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            {page_directives}
        }}
        {api_location}
    }}
}}
"""


class Nginx:
    """A real nginx on a loopback port in front of a LiveServer, reconfigurable live."""

    def __init__(self, binary: str, directory: Path, upstream: LiveServer):
        self.binary = binary
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nginx binds it itself; the gap is a few milliseconds
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def configure(self, page_directives: str = "", api_location: str = "") -> Nginx:
        """Write the config; start nginx, or reload it (the port and clients stay)."""
        (self.dir / "nginx.conf").write_text(
            NGINX_CONF.format(
                dir=self.dir,
                user="user root;" if os.geteuid() == 0 else "",
                upstream=self.upstream.port,
                port=self.port,
                page_directives=page_directives,
                api_location=api_location,
            )
        )
        command = [self.binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")]
        if self.process is None:
            self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        else:
            subprocess.run([*command, "-s", "reload"], check=True, capture_output=True)
            time.sleep(0.5)  # old workers finish their requests; new ones take the port
        wait_until_healthy(self.url, self.process, self.dir / "error.log")
        return self

    def access_count(self, fragment: str) -> int:
        """How many logged requests contain `fragment`."""
        log = self.dir / "access.log"
        return log.read_text().count(fragment) if log.exists() else 0

    def stop(self) -> None:
        stop_process(self.process, signal.SIGQUIT)  # nginx's graceful stop


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator:
    """`nginx(upstream)` → an Nginx proxying to that LiveServer; stopped after the test."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    require(Path(binary).exists(), "nginx is not installed (apt-get install nginx)")
    started: list[Nginx] = []

    def start(upstream: LiveServer) -> Nginx:
        proxy = Nginx(binary, tmp_path / f"nginx-{len(started)}", upstream)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


# -- a Redis of the test's own, to stop and start ------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A Redis URL that refuses connections: its port is bound by us and never listens."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{holder.getsockname()[1]}/0"


class RedisServer:
    """A redis-server of the test's own on a loopback port; it can stop and start again."""

    def __init__(self, binary: str, directory: Path):
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # No retries: a refused PING must come back at once while the server starts.
        client = redis.Redis(
            port=self.port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
        )
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"redis-server exited with {self.process.returncode}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.02)
            pytest.fail("redis-server did not answer within 5 s")
        finally:
            client.close()

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server of our own, stopped by PID after the test."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    require(Path(binary).exists(), "redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(binary, tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, which Playwright drives (it never downloads its own)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(path).exists(), "Chromium is not installed (apt-get install chromium)")
    return path

"""Fixtures: an app with its own database per test, on SQLite and (when configured) on
PostgreSQL; a client; visitors made through the domain; real servers on loopback ports."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from bench.redis_cluster import LoopbackCluster, cluster_missing
from devtone import connections, create_app
from devtone.domain import agents, conversations, log_writer
from devtone.domain.agents import AgentIdentity
from devtone.extensions import db, limiter
from devtone.realtime.cluster_broker import ClusterBroker
from devtone.realtime.redis_broker import RedisBroker
from tests.databases import PostgresDatabases
from tests.mail_server import MailServer
from tests.servers import ROOT, LiveServer, Nginx, RedisServer, SilentServer

ON_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("DEVTONE_TEST_REDIS_URL")
_PG_ENV = os.environ.get("DEVTONE_TEST_DATABASE_URL")
PG_URL = connections.database_url(_PG_ENV) if _PG_ENV else None
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


@pytest.fixture(autouse=True)
def _fresh_rate_limiter() -> None:
    """Flask-Limiter binds one extension object for the whole process and keeps the key
    prefix (and the "storage is dead" flag) of the first app it served: without this,
    every later test app would count in the first one's keys, and a suite's worth of
    sign-ins from 127.0.0.1 would run into the per-address limits of a test far away."""
    limiter._key_prefix = None
    limiter._storage_dead = False


# -- storage backends -------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """This process's PostgreSQL test databases (tests/databases.py): made ahead, dropped
    in the background, all dropped by the end of the session."""
    databases = PostgresDatabases(PG_URL)
    yield databases
    databases.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a PostgreSQL database made for this
    test and dropped after it (so live servers and concurrent connections see real
    commits, and nothing leaks between tests). Empty, except that a PostgreSQL database
    for a test with the `app` fixture already holds the tables its `create_all()` makes."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'devtone.sqlite3'}"
        return
    require(PG_URL is not None, "DEVTONE_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    databases = request.getfixturevalue("postgres_databases")
    name = databases.take(with_schema="app" in request.fixturenames)
    try:
        yield databases.url(name)
    finally:
        databases.drop(name)


#: What a page shows or says does not depend on the storage pair: a test of that runs on the
#: zero-setup one (SQLite and the in-process broker) only, while every test of delivery runs
#: on both. A mark for a module's `pytestmark` or a test.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


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


@contextmanager
def app_on(database_url: str, redis_url: str | None, redis_channel: str, **overrides):
    """A devtone app on this database (and Redis channel), schema created, short timings;
    `overrides` change any setting. Its services are closed after the block; its sent files
    go to a folder of its own, removed after it."""
    uploads = tempfile.mkdtemp(prefix="devtone-uploads-")
    overrides.setdefault("UPLOAD_FOLDER", uploads)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "REDIS_CHANNEL": redis_channel,
            "SSE_HEARTBEAT": 0.2,
            **overrides,
        }
    )
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        app.extensions["devtone.heads"].close()
        app.extensions["devtone.monitor_history"].close()
        app.extensions["devtone.broker"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(uploads, ignore_errors=True)


def counted_in_redis(redis_url: str | None, redis_channel: str) -> dict:
    """Settings that count rate limits in Redis on the production pair, apart from the
    counts of other tests (and runs) sharing the Redis database."""
    return {
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": redis_channel,
    }


@pytest.fixture
def app(database_url: str, redis_url: str | None, redis_channel: str):
    """A devtone app on its own database (and Redis channel), schema created, short timings."""
    with app_on(database_url, redis_url, redis_channel) as app:
        yield app


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


def settle(broker) -> None:
    """Return once what this process published so far can no longer reach a reader that
    subscribes from now on.

    Publishing to Redis goes through a queue: a reader that subscribes right after a
    conversation started or a message was posted could still hear of it, and a test that
    counts what a reader hears must settle first. Once the queue is sent, Redis has
    delivered it to whoever listened then; if this process listens itself, its own copy
    may still be on the way, and a marker published last arriving says it has come.
    """
    if isinstance(broker, ClusterBroker):
        # A later reader's SSUBSCRIBE reaches Redis after what was sent: it hears none of it.
        assert broker.flush(timeout=5)
        return
    if isinstance(broker, RedisBroker):
        assert broker.flush(timeout=5)
        if not broker.connected:
            return
    probe = broker.subscribe([f"test:settle:{uuid.uuid4().hex}"])
    try:
        broker.publish(next(iter(probe.channels)), {"settled": True})
        assert probe.get(timeout=5) == {"settled": True}
    finally:
        probe.close()


#: Where the domain's clock starts in a test that sets it: a Tuesday afternoon, UTC.
CLOCK_START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The domain's clock in this process, set by the test before each step (known
    timestamps); a live server keeps its own."""

    class Clock:
        now = CLOCK_START

        def __call__(self):
            return self.now

        def at(self, hour, minute=0, day=CLOCK_START):
            self.now = day.replace(hour=hour, minute=minute)

    fake = Clock()
    monkeypatch.setattr(log_writer, "utcnow", fake)
    monkeypatch.setattr(conversations, "utcnow", fake)
    return fake


@pytest.fixture
def start_visitor(app):
    """Start conversations through the domain, as `POST /api/conversations` would."""

    def start(name: str = "Ada", email: str | None = None) -> VisitorSession:
        with app.app_context():
            conversation, token = conversations.start_conversation(name, email)
        settle(app.extensions["devtone.broker"])  # its start is no news to later readers
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


@cache
def _agent_password_hash() -> str:
    """AGENT_PASSWORD's scrypt hash, made once per process (see make_agent)."""
    return generate_password_hash(AGENT_PASSWORD)


def _hash_agent_password_once(secret: str, *args, **kwargs) -> str:
    if secret == AGENT_PASSWORD and not args and not kwargs:
        return _agent_password_hash()
    return generate_password_hash(secret, *args, **kwargs)


@pytest.fixture
def make_agent(app):
    """Add agents through the domain, as `flask create-agent` would.

    Every agent it adds is stored with the one scrypt hash of AGENT_PASSWORD this process
    made (salt included), as if hashed on its own: scrypt costs 80 ms or more of CPU on
    purpose, and the suite adds well over a thousand agents. Signing in still checks
    the password against it for real, and any other password is hashed as always."""

    def make(name: str = "Maria", role: str = "agent", email: str | None = None) -> AgentAccount:
        address = email or f"{name.lower().replace(' ', '.')}@example.com"
        with app.app_context(), pytest.MonkeyPatch.context() as patch:
            patch.setattr(agents, "generate_password_hash", _hash_agent_password_once)
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

    def put(self, path: str, json: object = None, **kwargs):
        headers = {"X-CSRFToken": self.csrf_token, **kwargs.pop("headers", {})}
        return self.client.put(path, json=json, headers=headers, **kwargs)


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


# -- real servers on loopback ports (tests/servers.py) ---------------------------------


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


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A Redis URL that refuses connections: its port is bound by us and never listens."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{holder.getsockname()[1]}/0"


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A port that takes connections and never answers: a hung Redis or PostgreSQL."""
    server = SilentServer()
    yield server
    server.close()


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


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[LoopbackCluster]:
    """A Redis Cluster of our own (3 masters, 3 replicas), every node stopped by PID after."""
    missing = cluster_missing()
    require(missing is None, missing or "")
    cluster = LoopbackCluster(tmp_path / "cluster")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on a loopback port (aiosmtpd), stopped after the test."""
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, which Playwright drives (it never downloads its own)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(path).exists(), "Chromium is not installed (apt-get install chromium)")
    return path


# -- markers by path ---------------------------------------------------------------------

#: Fixtures that start a real server process: a test using one is a live test.
_SERVER_FIXTURES = {"live_server", "nginx", "redis_server", "redis_cluster"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by where they live and what they start (a `pytestmark` in a conftest
    marks nothing): tests/browser → browser, tests/static → node (the front-end build),
    tests/live or a server fixture → live, so `-m "not live and not browser and not node"`
    (make test-fast) starts no server, no browser and no Node."""
    for item in items:
        parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
        if parts[0] == "browser":
            item.add_marker(pytest.mark.browser)
        elif parts[0] == "static":
            item.add_marker(pytest.mark.node)
        elif parts[0] == "live" or _SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)

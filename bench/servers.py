"""The servers under test, each started by the benchmark on a socket it binds itself.

- devtone: gunicorn with ONE gevent worker (`-c gunicorn.conf.py --workers 1`), on one of
  STACKS: `embedded` (a SQLite file in a temporary folder, the in-process broker),
  `postgres` (a PostgreSQL database of its own, created and dropped here, and one Redis on
  a channel of its own) or `cluster` (the same database, and a Redis Cluster of 3 masters
  and 3 replicas the run starts on loopback, bench/redis_cluster.py, through
  REDIS_URL=redis+cluster://…: the sharded broker, one SSUBSCRIBE per conversation).
- flask-sse: `bench/reference_app.py` on gunicorn with one gevent worker and Redis.

Like tests/conftest.py, the benchmark binds 127.0.0.1:0 and hands the listening socket
to gunicorn as `fd://N`, so the port is ours from the start.
"""

from __future__ import annotations

import http.client
import io
import os
import secrets
import socket
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Process, pss_kib
from bench.redis_cluster import LoopbackCluster

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
START_TIMEOUT = 60.0
#: devtone's stacks, in the order a run measures them (and the tables list them).
STACKS = ("embedded", "postgres", "cluster")
#: devtone's /metrics answers this bearer token, made for each benchmark run.
METRICS_TOKEN = secrets.token_urlsafe(16)


def pg_admin_url() -> str:
    """The PostgreSQL server to create the bench's databases on."""
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_URL


def redis_url() -> str:
    """The Redis the bench uses (its own DB number; pub/sub channels are prefixed anyway)."""
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def redis_pid(url: str) -> int | None:
    """The PID of the Redis server at `url`, if it answers and runs on this machine."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        try:
            pid = int(client.info("server")["process_id"])
        finally:
            client.close()
    except Exception:
        return None
    return pid if pss_kib(pid) is not None else None


def redis_available(url: str) -> str | None:
    """None if Redis answers PING at `url`, else why not."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _clean_env() -> dict[str, str]:
    """The environment minus anything that would configure devtone behind our back."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class Source:
    """Which devtone runs: the work tree (default), or a commit extracted elsewhere."""

    path: Path = ROOT
    name: str = ""  # e.g. the short commit; empty for the work tree
    commit: str = ""

    @classmethod
    def at(cls, ref: str, into: Path) -> Source:
        """Extract commit `ref` of this repository into `into` (read-only `git archive`)."""
        commit = subprocess.run(  # noqa: S603 - a fixed argv
            ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        target = into / f"devtone-{commit}"
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(  # noqa: S603
            ["git", "archive", "--format=tar", commit],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        return cls(target, commit, commit)

    @classmethod
    def directory(cls, path: Path) -> Source:
        """A devtone checkout somewhere else on disk."""
        path = path.resolve()
        if not (path / "devtone" / "__init__.py").exists() or not (path / "wsgi.py").exists():
            raise SystemExit(f"{path} is not a devtone checkout (devtone/, wsgi.py)")
        return cls(path, path.name)


class Server:
    """A server process tree on a loopback port."""

    kind = "?"
    stack = "?"
    source = ROOT  # the source tree the server runs from (its working directory)

    def __init__(self, workdir: Path, connections: int):
        self.workdir = workdir
        self.connections = connections
        self.process: Process | None = None
        self.listener: socket.socket | None = None
        self.port = 0
        self._pids: list[int] = []
        self.dir = workdir / f"{self.kind}-{self.stack}-{uuid.uuid4().hex[:6]}"

    @property
    def label(self) -> str:
        """How the table names this server."""
        return self.kind

    def argv(self) -> list[str]:
        """The command line (the listening socket is `self.listener`)."""
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """The environment of the server process."""
        return _clean_env()

    def prepare(self) -> None:
        """Create what the server needs before it starts (database, schema)."""

    def cleanup(self) -> None:
        """Remove what `prepare` created."""

    def shared_pids(self) -> list[int]:
        """Processes outside the tree that grow with the streams (Redis for flask-sse)."""
        return []

    def start(self) -> Server:
        """Bind, prepare, start and wait until `/healthz` answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(4096)
        self.port = self.listener.getsockname()[1]
        self.process = Process(
            self.label,
            self.argv(),
            env=self.env(),
            cwd=self.source,
            log=self.dir / "server.log",
            pass_fds=(self.listener.fileno(),),
        )
        self._wait_until_up()
        return self

    def alive(self) -> bool:
        """Whether the server is still running."""
        return self.process is not None and self.process.alive()

    def tree(self) -> list[int]:
        """The server's PIDs (the gunicorn arbiter and its worker), as found at start.

        Read once: scanning /proc takes milliseconds, and the load client must not stall.
        """
        if not self._pids and self.process is not None:
            self._pids = self.process.tree()
        return list(self._pids)

    def worker_pid(self) -> int | None:
        """The gunicorn worker's PID (the arbiter's child)."""
        pids = self.tree()
        return pids[1] if len(pids) > 1 else None

    def stop(self) -> None:
        """Stop the tree by PID, close the listener, drop what `prepare` made."""
        try:
            if self.process is not None:
                self.process.stop()
        finally:
            if self.listener is not None:
                self.listener.close()
                self.listener = None
            self.cleanup()

    def log_tail(self) -> str:
        """The end of the server's log, for error messages."""
        return self.process.tail() if self.process is not None else ""

    def _wait_until_up(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"{self.label} exited at start:\n{self.log_tail()}")
            self._pids = self.process.tree()
            if len(self._pids) > 1 and _healthy(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not answer within {START_TIMEOUT} s")


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


class DevtoneServer(Server):
    """devtone on gunicorn with one gevent worker, as gunicorn.conf.py configures it."""

    kind = "devtone"

    def __init__(
        self,
        workdir: Path,
        connections: int,
        stack: str,
        run_id: str,
        source: Source | None = None,
        cluster: LoopbackCluster | None = None,
    ):
        if stack not in STACKS:
            raise ValueError(f"unknown stack {stack!r}: choose from {', '.join(STACKS)}")
        if (stack == "cluster") != (cluster is not None):
            raise ValueError("the cluster stack, and only it, runs on a LoopbackCluster")
        self.stack = stack
        self.cluster = cluster
        super().__init__(workdir, connections)
        self.run_id = run_id
        self.database = ""
        self._pg_name: str | None = None
        self.version = source or Source()
        self.source = self.version.path
        self.gc_log: Path | None = None  # a folder: log the worker's GC pauses there

    @property
    def label(self) -> str:
        """devtone (embedded), (postgres), (cluster); with the ref when not the work tree."""
        ref = f" {self.version.name}" if self.version.name else ""
        return f"devtone{ref} ({self.stack})"

    def argv(self) -> list[str]:
        """gunicorn -c gunicorn.conf.py --workers 1 --bind fd://N wsgi:app."""
        assert self.listener is not None
        return [
            str(BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"fd://{self.listener.fileno()}",
            "wsgi:app",
        ]

    def env(self) -> dict[str, str]:
        """Defaults everywhere but the storage, the broker and the connection ceiling."""
        env = super().env()
        paths = [env.get("PYTHONPATH", "")]
        if self.source != ROOT:
            # Ahead of the editable install: `import devtone` loads this tree's code.
            paths.insert(0, str(self.source))
        if self.gc_log is not None:
            paths.insert(0, str(Path(__file__).resolve().parent / "gclog"))
            env["BENCH_GC_LOG"] = str(self.gc_log)
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        env["DATABASE_URL"] = self.database
        env["DEVTONE_INSTANCE_PATH"] = str(self.dir / "instance")
        # gunicorn.conf.py: worker_connections = open streams + headroom (docs/deploy.md).
        env["DEVTONE_WORKER_CONNECTIONS"] = str(self.connections)
        # The load client is one address posting hundreds of messages a second, thousands
        # of streams on one conversation (broadcast): load, not the abuse the limits stop.
        env["DEVTONE_CONVERSATION_RATE_LIMIT"] = "1000000 per minute"
        env["DEVTONE_MESSAGE_RATE_LIMIT"] = "1000000 per minute"
        env["DEVTONE_STREAMS_PER_CONVERSATION"] = str(self.connections)
        env["DEVTONE_MAX_STREAMS"] = str(self.connections)
        env["DEVTONE_METRICS_TOKEN"] = METRICS_TOKEN  # the storm reads its catch-up counts
        if self.stack != "embedded":
            env["REDIS_URL"] = self.cluster.url if self.cluster else redis_url()
            # Its channels, and on the cluster its stream counts and rate limits, apart from
            # every earlier phase's (the cluster serves all the phases of one N).
            env["DEVTONE_REDIS_CHANNEL"] = f"devtone-bench:{self.run_id}:{self.dir.name}"
        return env

    def prepare(self) -> None:
        """A fresh database with devtone's schema (`flask --app devtone init-db`)."""
        if self.stack == "embedded":
            self.database = f"sqlite:///{self.dir / 'devtone.sqlite3'}"
        else:
            self._pg_name = f"devtone_bench_{uuid.uuid4().hex[:12]}"
            _pg_execute(pg_admin_url(), f'CREATE DATABASE "{self._pg_name}"')
            self.database = _with_database(pg_admin_url(), self._pg_name)
        done = subprocess.run(  # noqa: S603 - argv built by the bench
            [str(BIN / "flask"), "--app", "devtone", "init-db"],
            env=self.env(),
            cwd=self.source,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"init-db failed:\n{done.stdout}\n{done.stderr}")

    def cleanup(self) -> None:
        """Drop the PostgreSQL database; the SQLite file goes with the work folder."""
        if self._pg_name is not None:
            _pg_execute(pg_admin_url(), f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
            self._pg_name = None

    def shared_pids(self) -> list[int]:
        """Redis on the postgres stack (one pub/sub connection per process); on the cluster
        stack all six nodes, masters and replicas: their PSS is summed with the tree's."""
        if self.cluster is not None:
            return self.cluster.pids()
        if self.stack != "postgres":
            return []
        pid = redis_pid(redis_url())
        return [pid] if pid else []


class FlaskSseServer(Server):
    """The reference: flask-sse on gunicorn with one gevent worker, Redis pub/sub."""

    kind = "flask-sse"
    stack = "redis"

    def argv(self) -> list[str]:
        """gunicorn -k gevent -w 1 bench.reference_app:app."""
        assert self.listener is not None
        return [
            str(BIN / "gunicorn"),
            "--worker-class",
            "gevent",
            "--workers",
            "1",
            "--worker-connections",
            str(self.connections),
            "--keep-alive",
            "5",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            "--bind",
            f"fd://{self.listener.fileno()}",
            "bench.reference_app:app",
        ]

    def env(self) -> dict[str, str]:
        """Redis URL of the bench's own."""
        env = super().env()
        env["BENCH_REDIS_URL"] = redis_url()
        return env

    def shared_pids(self) -> list[int]:
        """Redis holds one pub/sub connection (and its buffers) per open stream."""
        pid = redis_pid(redis_url())
        return [pid] if pid else []


def _with_database(url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_execute(url: str, statement: str) -> None:
    import psycopg2

    from devtone.config import database_url

    dsn = database_url(url).replace("postgresql+psycopg2://", "postgresql://")
    connection = psycopg2.connect(dsn, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def pg_available() -> str | None:
    """None if the bench can create databases on the PostgreSQL server, else why not."""
    try:
        _pg_execute(pg_admin_url(), "SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {str(error).strip()}"
    return None

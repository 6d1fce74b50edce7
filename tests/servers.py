"""Real servers the tests start on loopback ports: devtone under gunicorn, nginx, Redis,
and a relay that can freeze the way to PostgreSQL (the SMTP server is in mail_server.py).

Plain helpers, imported by the fixtures in conftest.py and by tests that need one
directly. Each stops only the process it started, by its PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parent.parent


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


def hear_ctrl_c() -> None:
    """A child's `preexec_fn`: hear SIGINT as Ctrl-C. A suite started in the background
    (`cmd &` in a script, as CI may) hands its children SIGINT ignored, and Python then
    never raises KeyboardInterrupt: `make run` would wait out its grace, then be killed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
                    # As gunicorn.conf.py reads it; one unless a test asks for more.
                    self.env.get("DEVTONE_WORKERS", "1"),
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

    def workers(self) -> list[int]:
        """The PIDs of gunicorn's workers (the children of the process we started)."""
        pid = self.process.pid
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]

    def worker_serving(self, client_port: int) -> int:
        """The PID of the worker holding the connection from loopback port `client_port`."""
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if local == self.port and remote == client_port:
                inodes.add(f"socket:[{fields[9]}]")
        for pid in self.workers():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
        raise AssertionError(f"no worker holds the connection from port {client_port}")

    def close(self) -> None:
        """The end of the test: gunicorn's quick shutdown (SIGQUIT), since how it stops is
        no longer under test and a graceful stop waits out the worker's 1 s beat."""
        stop_process(self.process, signal.SIGQUIT, grace=10)
        self.listener.close()


class EmbeddedServer:
    """`python wsgi.py`, what `make run` starts (one gevent process, SQLite, the in-process
    broker), on a loopback port of its own and a fresh instance folder."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "embedded.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> EmbeddedServer:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(
            DEVTONE_INSTANCE_PATH=str(self.directory / "instance"), DEVTONE_PORT=str(self.port)
        )
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "wsgi.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=hear_ctrl_c,
            )
        wait_until_healthy(self.url, self.process, self.log, on_timeout=self.stop)
        return self

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT, grace=10)  # what Ctrl-C does to `make run`


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    {access_log}
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

    def configure(
        self, page_directives: str = "", api_location: str = "", access_log: str = ""
    ) -> Nginx:
        """Write the config; start nginx, or reload it (the port and clients stay).

        `access_log`: the http block's access-log directives (docs/deploy.md's, say), its
        files under /var/log/nginx/ moved to this nginx's directory; by default nginx's
        own `combined` format, to access.log.
        """
        access_log = access_log.replace("/var/log/nginx/", f"{self.dir}/")
        (self.dir / "nginx.conf").write_text(
            NGINX_CONF.format(
                dir=self.dir,
                user="user root;" if os.geteuid() == 0 else "",
                upstream=self.upstream.port,
                port=self.port,
                page_directives=page_directives,
                api_location=api_location,
                access_log=access_log or f"access_log {self.dir}/access.log;",
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

    def access_log(self) -> str:
        """What nginx has logged to access.log so far."""
        log = self.dir / "access.log"
        return log.read_text() if log.exists() else ""

    def access_count(self, fragment: str) -> int:
        """How many logged requests contain `fragment`."""
        return self.access_log().count(fragment)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGQUIT)  # nginx's graceful stop


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and new ones complete (the kernel answers the
        handshake), but nothing is ever read or answered: a hung Redis, not a dead one."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: Redis reads what piled up meanwhile and answers it."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()  # a stopped process would sit on SIGTERM until the SIGKILL
        stop_process(self.process, signal.SIGTERM)


class FreezableRelay:
    """A loopback TCP relay in front of a real server, which the test can freeze.

    Frozen, it keeps every connection open and accepts new ones, but passes no byte either
    way: to a client that is exactly a server stopped with SIGSTOP (the kernel completes
    the handshake and takes what the client sends; nothing ever comes back). Thawed, what
    was held back flows on, as it would when the server got SIGCONT. It lets a test freeze
    a server it shares with others (the machine's PostgreSQL) without touching it.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.connections = 0  # accepted so far
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        # A stopped server's backend is not even forked: connect upstream only once thawed.
        self._flowing.wait()
        if self._closed:
            client.close()
            return
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        with self._lock:
            self._sockets += [client, server]
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                # Received, but held while frozen: as if it still sat in a socket buffer.
                self._flowing.wait()
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(data)
        except OSError:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class SilentServer:
    """A loopback port that takes connections and never answers: a hung server (Redis,
    PostgreSQL) as its clients see it. Counts the connections it took."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str) -> str:
        """A URL of `scheme` ("redis", "postgresql") pointing here."""
        if scheme == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"{scheme}://nobody@127.0.0.1:{self.port}/none"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)  # held open, never read, never answered

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()

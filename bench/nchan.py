"""nchan, the second reference: nginx 1.22 with Debian's nchan module, one worker.

The benchmark installs nothing: when `nginx` or `libnginx-mod-nchan` is missing, nchan
is skipped and the run says why. Otherwise each phase gets a fresh nginx on a loopback
port, from an nginx.conf written into the run's work folder with its own pid file, error
log and temporary folders (nothing under /var), stopped by PID like every other server.

    POST /pub/<channel>      nchan_publisher: the body is the message
    GET  /sub/<channel>      nchan_subscriber eventsource
    GET  /lp/<channel>       nchan_subscriber longpoll (If-Modified-Since / If-None-Match)
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from bench.procs import Process
from bench.servers import HOST, Server

MODULE_NAME = "ngx_nchan_module.so"
MODULE_DIRS = (Path("/usr/lib/nginx/modules"), Path("/usr/share/nginx/modules"))
LONGPOLL_TIMEOUT = 25  # seconds a long-poll waits, like devtone's `wait=25`
BUFFER_LENGTH = 5_000  # messages kept per channel, for long-poll readers between requests


def nginx_binary() -> Path | None:
    """The nginx executable, if installed."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return Path(found) if Path(found).exists() else None


def nchan_module(dirs: tuple[Path, ...] | None = None) -> Path | None:
    """Where Debian's libnginx-mod-nchan put the module, if it is installed."""
    for folder in dirs or MODULE_DIRS:
        if (folder / MODULE_NAME).exists():
            return folder / MODULE_NAME
    return None


def nchan_missing() -> str | None:
    """None if nginx and the nchan module are both installed, else why nchan is skipped."""
    if nginx_binary() is None:
        return "nginx is not installed (Debian: apt-get install nginx libnginx-mod-nchan)"
    if nchan_module() is None:
        folders = " or ".join(str(d) for d in MODULE_DIRS)
        return f"no {MODULE_NAME} in {folders} (Debian: apt-get install libnginx-mod-nchan)"
    return None


def nchan_config(module: Path, folder: Path, port: int, connections: int, root: bool) -> str:
    """The nginx.conf of one nchan server: one worker, every path inside `folder`."""
    # As root the master hands the worker to `nobody` unless told otherwise; the worker
    # then could not write the temporary folders created here.
    user = "user root;\n" if root else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
load_module {module};
{user}worker_processes 1;
daemon off;
master_process on;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
worker_rlimit_nofile {connections + 64};

events {{
    worker_connections {connections};
}}

http {{
    access_log off;
{temp}
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    nchan_max_reserved_memory 128M;
    nchan_message_buffer_length {BUFFER_LENGTH};
    nchan_message_timeout 10m;

    server {{
        listen {HOST}:{port} reuseport backlog=4096;

        location = /healthz {{
            return 200 "ok\\n";
        }}
        location ~ ^/pub/(\\w+)$ {{
            nchan_publisher;
            nchan_channel_id $1;
        }}
        location ~ ^/sub/(\\w+)$ {{
            nchan_subscriber eventsource;
            nchan_channel_id $1;
        }}
        location ~ ^/lp/(\\w+)$ {{
            nchan_subscriber longpoll;
            nchan_channel_id $1;
            # Here only: an EventSource subscriber would be cut off after it too.
            nchan_subscriber_timeout {LONGPOLL_TIMEOUT}s;
        }}
    }}
}}
"""


class NchanServer(Server):
    """nginx + nchan, one worker (`worker_processes 1`), on a loopback port of its own."""

    kind = "nchan"
    stack = "nginx"

    def argv(self) -> list[str]:
        """nginx -p <folder> -c <folder>/nginx.conf -e <folder>/error.log."""
        binary = nginx_binary()
        assert binary is not None
        return [
            str(binary),
            "-p",
            str(self.dir),
            "-c",
            str(self.dir / "nginx.conf"),
            "-e",
            str(self.dir / "error.log"),
        ]

    def start(self) -> Server:
        """Write nginx.conf for a free port, start nginx, wait until `/healthz` answers.

        The port is reserved by a socket bound with SO_REUSEPORT (not listening) until
        nginx listens on it too (`reuseport`), so no other program takes it meanwhile.
        """
        module = nchan_module()
        assert module is not None, nchan_missing()
        self.dir.mkdir(parents=True, exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.listener.bind((HOST, 0))
        self.port = self.listener.getsockname()[1]
        config = nchan_config(module, self.dir, self.port, self.connections, os.geteuid() == 0)
        (self.dir / "nginx.conf").write_text(config)
        self.process = Process(
            self.label,
            self.argv(),
            env=self.env(),
            cwd=self.dir,
            log=self.dir / "server.log",
        )
        try:
            self._wait_until_up()
        finally:
            self.listener.close()  # it never listened: connections all go to nginx
            self.listener = None
        return self

    def log_tail(self) -> str:
        """nginx's own error log, after whatever it printed."""
        tail = super().log_tail()
        try:
            errors = (self.dir / "error.log").read_text(errors="replace").splitlines()[-20:]
        except FileNotFoundError:
            errors = []
        return "\n".join([tail, *errors]).strip()

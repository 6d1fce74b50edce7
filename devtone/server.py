"""The embedded default server behind `make run`: one gevent process, no other service."""

from __future__ import annotations

import errno
import logging
import sys
from io import BytesIO
from typing import Any, BinaryIO

from flask import Flask
from gevent import Timeout
from gevent.pywsgi import WSGIHandler, WSGIServer

from devtone import cli, config, mail_out, retention, webhooks_out
from devtone.access_log import RedactingFilter


class HeadRefused(ValueError):
    """A request head past devtone's limits: answered with `status`, then closed.

    A ValueError, which gevent takes for the client's fault (no traceback)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.answer = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ).encode()


class BoundedHandler(WSGIHandler):
    """gevent's handler, with gunicorn.conf.py's bounds on a request's head: its request
    line, its header fields, and the time a client has to send it all.

    gevent alone reads up to 100 header lines of 64 KiB each, and waits for them forever.
    """

    _head_timer: Timeout | None = None

    def read_requestline(self) -> str:
        """The request line; the head's clock starts with its first byte awaited."""
        self._head_timer = Timeout.start_new(
            config.REQUEST_HEAD_SECONDS, HeadRefused(408, "Request Timeout")
        )
        try:
            return super().read_requestline()
        except HeadRefused:
            return ""  # nothing (more) came in time: close, as after an idle keep-alive

    def read_request(self, raw_requestline: str) -> bool:
        """Parse the head, refusing a request line or headers past the limits; the head's
        clock stops here, before the application runs (a stream lasts for hours)."""
        try:
            if len(raw_requestline.rstrip("\r\n")) > config.REQUEST_LINE_LIMIT:
                raise HeadRefused(414, "URI Too Long")
            return super().read_request(raw_requestline)
        finally:
            self._stop_head_timer()

    def MessageClass(self, fp: BinaryIO, *args: Any) -> Any:  # gevent's name for it
        """The header fields, read line by line within the limits, then parsed as gevent
        parses them."""
        lines = []
        while True:
            line = fp.readline(config.REQUEST_FIELD_SIZE_LIMIT + 1)
            if line in (b"\r\n", b"\n", b""):
                break
            too_long = len(line) > config.REQUEST_FIELD_SIZE_LIMIT
            if too_long or len(lines) == config.REQUEST_FIELDS_LIMIT:
                raise HeadRefused(431, "Request Header Fields Too Large")
            lines.append(line)
        return super().MessageClass(BytesIO(b"".join(lines) + b"\r\n"), *args)

    def handle_one_request(self) -> Any:
        """One request (gevent's), the head's clock stopped on every way out: some leave
        before `read_request`."""
        try:
            return super().handle_one_request()
        finally:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.close()
            self._head_timer = None

    def _handle_client_error(self, ex: Exception) -> Any:
        # gevent's hook for a request it cannot take: answers a tuple (status, bytes).
        if isinstance(ex, HeadRefused):
            return str(ex.status), ex.answer
        return super()._handle_client_error(ex)


def serve(app: Flask) -> None:
    """Create the schema if missing, then serve `app` until interrupted.

    gevent's server gives every request (and every open SSE stream) a greenlet, so
    thousands of streams cost memory, not threads. Call after monkey-patching.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cli.init_db(app)
    demo_password = cli.ensure_demo_agent(app)
    host, port = app.config["HOST"], app.config["PORT"]
    access = logging.getLogger("devtone.access")
    access.addFilter(RedactingFilter())  # stream URLs carry ?token=
    server = WSGIServer((host, port), app, log=access, handler_class=BoundedHandler)
    try:
        server.start()  # binds now, so port 0 resolves to the real port before we print it
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        # A newcomer's most likely first error (another `make run` is still going): say
        # what to do, not a traceback.
        sys.exit(
            f"devtone cannot listen on {host}:{port}: the port is already in use. Stop what "
            f"uses it, or choose another port: DEVTONE_PORT={port + 1} make run"
        )
    # print, not log: this line is what a newcomer (and the test of `make run`) looks for.
    base = f"http://{host}:{server.server_port}"
    print(f"devtone is serving on {base}/chat", flush=True)
    if demo_password is None:
        print(f"Agents sign in at {base}/dashboard/login", flush=True)
    else:
        # Shown once: the database keeps only its hash.
        print(
            f"Agents sign in at {base}/dashboard/login as {cli.DEMO_EMAIL} "
            f"with the password {demo_password} (shown only now)",
            flush=True,
        )
    # E-mail to visitors is sent from here too (one process at a time holds it).
    sender = mail_out.start(app)
    # And webhooks (idle while no endpoint is enabled; one process at a time sends).
    webhooks = webhooks_out.start(app)
    # And the retention rule, when DEVTONE_RETENTION_DAYS asks for it (once a day, one
    # process at a time).
    keeper = retention.start(app)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=5)
    finally:
        webhooks.stop()
        if sender is not None:
            sender.stop()
        if keeper is not None:
            keeper.stop()

"""The embedded default server behind `make run`: one gevent process, no other service."""

from __future__ import annotations

import logging

from flask import Flask
from gevent.pywsgi import WSGIServer

from devtone import cli
from devtone.access_log import RedactingFilter


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
    server = WSGIServer((host, port), app, log=access)
    server.start()  # binds now, so port 0 resolves to the real port before we print it
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
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=5)

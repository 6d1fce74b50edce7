"""devtone: a live-support chat server."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from devtone import cli, config, domain, extensions, feeds, realtime


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured devtone app; tests pass `overrides`. No I/O happens here.

    It only wires, in this order: config → extensions → transport → domain → feeds →
    the HTTP edge → CLI.
    """
    # DEVTONE_INSTANCE_PATH moves the SQLite file and the secret (tests, packaged installs).
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("DEVTONE_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(config.load(os.environ, app.instance_path, overrides))
    app.json.sort_keys = False
    if app.config["PROXY_HOPS"] > 0:
        # Behind N trusted proxies: the client's address (sign-in limits) and scheme come
        # from their X-Forwarded-For/-Proto, never from a header anyone could send.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    extensions.init_app(app)
    realtime.init_app(app)
    domain.init_app(app, realtime.broker_of(app))
    feeds.init_app(app)
    # Imported here, not at the top: the composition root is the only importer of the
    # HTTP edge, and `import devtone` alone should not pull in every view.
    from devtone import web

    web.register(app)
    cli.register(app)
    return app

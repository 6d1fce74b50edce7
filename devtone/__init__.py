"""devtone: a live-support chat server."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from devtone import cli, config, database, domain, extensions, feeds, file_store, mail, realtime


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured devtone app; tests pass `overrides`. No service is reached here
    (the only file read is the front-end build's manifest, so a stale build stops the start).

    It only wires, in this order: config → extensions → mail → transport → domain → feeds →
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
        # Behind N proxies: the client's address (every per-address limit) and scheme come
        # from their X-Forwarded-For/-Proto, and only when a trusted proxy sent them.
        from devtone.web.proxies import TrustedProxies

        app.wsgi_app = TrustedProxies(
            app.wsgi_app, app.config["PROXY_HOPS"], app.config["TRUSTED_PROXIES"]
        )
    extensions.init_app(app)
    database.init_app(app)
    mail.init_app(app)
    file_store.init_app(app)
    realtime.init_app(app)
    domain.init_app(app, realtime.broker_of(app))
    feeds.init_app(app)
    # Imported here, not at the top: the composition root is the only importer of the
    # HTTP edge, and `import devtone` alone should not pull in every view.
    from devtone import web

    web.register(app)
    cli.register(app)
    return app

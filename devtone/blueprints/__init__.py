"""The one place that imports and registers every blueprint."""

from __future__ import annotations

from flask import Flask

from devtone.blueprints import (
    api,
    auth,
    chat,
    contract,
    dashboard,
    errors,
    monitor,
    ops,
    parsing,
    security_headers,
    widget,
)


def register(app: Flask) -> None:
    """Register devtone's blueprints and its error rendering on `app`."""
    app.url_map.converters["id"] = parsing.IdConverter  # before any rule uses <id:…>
    app.register_blueprint(api.bp)
    app.register_blueprint(contract.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    auth.init_app(app)
    app.register_blueprint(chat.bp)
    app.register_blueprint(monitor.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(widget.bp)
    security_headers.init_app(app)
    errors.register(app)

"""The HTTP edge: the one place that imports and registers every blueprint."""

from __future__ import annotations

from flask import Flask

from devtone.web import (
    api_conversations,
    api_realtime,
    auth,
    chat,
    contract,
    dashboard,
    errors,
    limits,
    monitor,
    ops,
    request,
    security_headers,
    widget,
)


def register(app: Flask) -> None:
    """Register devtone's blueprints and its error rendering on `app`."""
    app.url_map.converters["id"] = request.IdConverter  # before any rule uses <id:…>
    app.register_blueprint(api_conversations.bp)
    app.register_blueprint(api_realtime.bp)
    app.register_blueprint(contract.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    auth.init_app(app)
    app.register_blueprint(chat.bp)
    app.register_blueprint(monitor.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(widget.bp)
    security_headers.init_app(app)
    limits.init_app(app)
    errors.register(app)

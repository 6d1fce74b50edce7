"""The HTTP edge: the one place that imports and registers every blueprint."""

from __future__ import annotations

from flask import Flask

from devtone.web import (
    api_attachments,
    api_conversations,
    api_realtime,
    api_tokens,
    api_visitors,
    assets,
    auth,
    canned_replies,
    chat,
    contract,
    dashboard,
    doctor,
    errors,
    i18n,
    labels,
    limits,
    mail_inbound,
    monitor,
    office_hours,
    ops,
    password_reset,
    presence,
    request,
    search,
    security_headers,
    session_cookie,
    token_access,
    token_pages,
    visitor_data,
    visitor_email,
    webhooks,
    webhooks_page,
    widget,
)


def register(app: Flask) -> None:
    """Register devtone's blueprints and its error rendering on `app`."""
    app.url_map.converters["id"] = request.IdConverter  # before any rule uses <id:…>
    i18n.init_app(app)  # before the templates are parsed: they use its {% trans %} tag
    assets.init_app(app)  # then: a build that lacks a page's bundle stops the start here
    app.register_blueprint(api_conversations.bp)
    app.register_blueprint(api_attachments.bp)
    app.register_blueprint(api_realtime.bp)
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(api_visitors.bp)
    app.register_blueprint(contract.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(office_hours.bp)
    app.register_blueprint(visitor_data.bp)
    app.register_blueprint(canned_replies.bp)
    app.register_blueprint(token_pages.bp)
    app.register_blueprint(presence.bp)
    app.register_blueprint(labels.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(password_reset.bp)
    auth.init_app(app)
    session_cookie.init_app(app)
    app.register_blueprint(chat.bp)
    app.register_blueprint(monitor.bp)
    app.register_blueprint(doctor.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(visitor_email.bp)
    app.register_blueprint(mail_inbound.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(webhooks_page.bp)
    security_headers.init_app(app)
    limits.init_app(app)
    token_access.init_app(app)
    errors.register(app)

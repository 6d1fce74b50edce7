"""Observability at the edge: browsers' tier reports, and the admins' monitor page and feed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.agents import AgentIdentity
from devtone.blueprints.parsing import WAIT_MAX, agent, json_object, whole_number
from devtone.blueprints.streaming import agent_still_active, event_stream
from devtone.extensions import limiter
from devtone.realtime import broker_of, connection_log, monitor_feed

bp = Blueprint("monitor", __name__)


@bp.post("/api/realtime/report")
@limiter.limit(lambda: current_app.config["TIER_REPORT_RATE_LIMIT"])
def report_tier_change() -> tuple[str, int]:
    """A browser moved from one tier to another (a fallback or an upgrade), and why."""
    fields = json_object()
    source = _choice(fields, "from", connection_log.TIERS)
    target = _choice(fields, "to", connection_log.TIERS)
    reason = _choice(fields, "reason", connection_log.REPORT_REASONS)
    kind = _choice(fields, "kind", connection_log.KINDS, required=False)
    if source == target:
        raise errors.Invalid("from and to must be different tiers.", field="to")
    connection_log.tier_change(source, target, reason, _reporter(), kind)
    return "", 204


@bp.get("/dashboard/monitor")
@login_required
def page() -> str:
    """Connections and delivery, live: for administrators."""
    if not current_user.is_admin:
        abort(403)
    return render_template("dashboard/monitor.html", agent=current_user)


@bp.get("/api/monitor/snapshot")
def snapshot() -> dict[str, Any]:
    """The figures and recent events; with `etag` and `wait`, as soon as they differ."""
    _admin()
    wait = whole_number("wait", request.args.get("wait"), default=0, high=WAIT_MAX)
    etag = request.args.get("etag") or None
    return monitor_feed.wait_for_monitor(broker_of(current_app), etag, wait)


@bp.get("/api/monitor/events")
def events() -> Response:
    """The monitor over SSE: hello, then a snapshot whenever the figures change."""
    me = _admin()
    app = current_app._get_current_object()
    hello = {"heartbeat_ms": round(app.config["SSE_HEARTBEAT"] * 1000)}
    return event_stream(
        monitor_feed.monitor_events(
            broker_of(app),
            hello,
            app.config["SSE_HEARTBEAT"],
            app.config["SSE_RETRY_MS"],
            agent_still_active(app, me),
        )
    )


def _admin() -> AgentIdentity:
    me = agent()
    if not me.is_admin:
        raise errors.Forbidden("Only an administrator can watch the monitor.", code="admins_only")
    return me


def _reporter() -> object:
    # Who reports, for the log line only. The report is unauthenticated telemetry (it
    # changes nothing stored): a signed-in agent's page is named, anyone else is a visitor.
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return "visitor"


def _choice(
    fields: dict[str, Any], name: str, allowed: tuple[str, ...], required: bool = True
) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise errors.Invalid(f"{name} must be one of {', '.join(allowed)}.", field=name)
    return value

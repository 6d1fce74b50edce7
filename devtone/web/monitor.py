"""The admins' monitor: its page, and its feed over long-poll and SSE."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain.agents import AgentIdentity
from devtone.feeds import loop, monitor_history_of
from devtone.feeds import monitor as monitor_feed
from devtone.realtime import broker_of, stream_slots_of
from devtone.realtime.stream_slots import given_back_if_never_run
from devtone.web.request import WAIT_MAX, agent, whole_number
from devtone.web.sse_response import agent_still_active, event_stream, stream_settings

bp = Blueprint("monitor", __name__)


@bp.get("/dashboard/monitor")
@login_required
def page() -> str:
    """Connections and delivery, live: for administrators."""
    if not current_user.is_admin:
        abort(403)
    step = round(monitor_history_of(current_app).step)
    return render_template("dashboard/monitor.html", agent=current_user, step=step)


@bp.get("/api/monitor/snapshot")
def snapshot() -> dict[str, Any]:
    """The figures and recent events; with `etag` and `wait`, as soon as they differ."""
    me = _admin()
    wait = whole_number("wait", request.args.get("wait"), default=0, high=WAIT_MAX)
    etag = request.args.get("etag") or None
    with stream_slots_of(current_app).acquire_for_wait(None, wait, reserved=True):
        return monitor_feed.wait_for_monitor(
            broker_of(current_app), monitor_history_of(current_app), etag, wait, caller=me
        )


@bp.get("/api/monitor/events")
def events() -> Response:
    """The monitor over SSE: hello, then a snapshot whenever the figures change."""
    me = _admin()
    app = current_app._get_current_object()
    settings = stream_settings(app, agent_still_active(app, me))
    reader = monitor_feed.MonitorReader({}, settings.clock, monitor_history_of(app))
    slot = stream_slots_of(app).acquire(None, reserved=True)  # agents' pool; given back at the end
    stream = loop.stream(reader, broker_of(app), settings, me, slot)
    return event_stream(given_back_if_never_run(slot, stream))


def _admin() -> AgentIdentity:
    me = agent()
    if not me.is_admin:
        raise errors.Forbidden("Only an administrator can watch the monitor.", code="admins_only")
    return me

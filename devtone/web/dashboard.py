"""The agents' side: the dashboard page, agent management, and the dashboard feed's API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import agents
from devtone.feeds import dashboard as dashboard_feed
from devtone.feeds import loop, snapshots_of
from devtone.realtime import broker_of, stream_slots_of
from devtone.realtime.stream_slots import given_back_if_never_run
from devtone.web.forms import ActionForm, AgentForm
from devtone.web.request import WAIT_MAX, agent, whole_number
from devtone.web.sse_response import agent_still_active, event_stream, stream_settings

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index() -> str:
    """The live conversation list, statistics and transcript."""
    return render_template("dashboard/index.html", agent=current_user)


@bp.route("/dashboard/agents", methods=["GET", "POST"])
@login_required
def agents_page() -> Response | str | tuple[str, int]:
    """Administrators add agents here, and deactivate or reactivate them."""
    _require_admin()
    form = AgentForm()
    status = 200
    if form.validate_on_submit():
        try:
            role = "admin" if form.admin.data else "agent"
            added = agents.create_agent(form.email.data, form.name.data, form.password.data, role)
        except (errors.Invalid, errors.Conflict) as error:
            form.form_errors.append(error.message)
            status = 422
        else:
            flash(f"{added['name']} can now sign in.")
            return redirect(url_for("dashboard.agents_page"))
    elif request.method == "POST":
        status = 400
    listed = agents.list_agents()
    return render_template(
        "dashboard/agents.html", form=form, action=ActionForm(), agents=listed
    ), status


@bp.post("/dashboard/agents/<id:agent_id>/active")
@login_required
def set_active(agent_id: int) -> Response:
    """Deactivate (or reactivate, with `active=1`) an agent; they are signed out at once."""
    _require_admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        changed = agents.set_active(agent_id, active, current_user)
    except errors.Conflict as error:
        flash(error.message)
    else:
        state = "reactivated" if changed["active"] else "deactivated"
        flash(f"{changed['name']} is {state}.")
    return redirect(url_for("dashboard.agents_page"))


@bp.post("/dashboard/agents/<id:agent_id>/sessions/end")
@login_required
def end_agent_sessions(agent_id: int) -> Response:
    """Sign an agent out in every browser; their open streams end at the next heartbeat."""
    _require_admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        ended = agents.end_every_session(agent_id, current_user)
    except errors.NotFound:
        abort(404)
    if agent_id == current_user.id:
        logout_user()
        return redirect(url_for("auth.login"))
    flash(f"Signed out of {ended} browser{'' if ended == 1 else 's'}.")
    return redirect(url_for("dashboard.agents_page"))


@bp.get("/dashboard/account")
@login_required
def account() -> str:
    """The agent's own page: who they are, and the browsers they are signed in on."""
    sessions = agents.open_sessions(current_user)
    return render_template(
        "dashboard/account.html", agent=current_user, sessions=sessions, action=ActionForm()
    )


@bp.post("/dashboard/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of the signed-in agent, this one included."""
    if not ActionForm().validate_on_submit():
        abort(400)
    agents.end_every_session(current_user.id, current_user)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/api/dashboard/snapshot")
def snapshot() -> dict[str, Any]:
    """The list and statistics; with `etag` and `wait`, as soon as they differ from `etag`."""
    me = agent()
    wait = whole_number("wait", request.args.get("wait"), default=0, high=WAIT_MAX)
    etag = request.args.get("etag") or None
    with stream_slots_of(current_app).acquire_for_wait(None, wait, reserved=True):
        found = dashboard_feed.wait_for_snapshot(
            snapshots_of(current_app), broker_of(current_app), etag, wait, caller=me
        )
    return found.as_json()


@bp.get("/api/dashboard/events")
def events() -> Response:
    """The dashboard feed over SSE: hello, snapshot, then conversation upserts and stats."""
    me = agent()
    hello = {"agent": {"id": me.id, "name": me.name, "role": me.role}}
    app = current_app._get_current_object()
    snapshots = snapshots_of(app)
    reader = dashboard_feed.DashboardReader(snapshots, hello, app.config["SSE_HEARTBEAT"])
    settings = stream_settings(app, agent_still_active(app, me), snapshots.clock)
    slot = stream_slots_of(app).acquire(None, reserved=True)  # agents' pool; given back at the end
    stream = loop.stream(reader, broker_of(app), settings, me, slot)
    return event_stream(given_back_if_never_run(slot, stream))


@bp.get("/api/agents")
def list_agents() -> dict[str, Any]:
    """Every agent, for an administrator's assign-to choice (addresses stay with admins)."""
    if not agent().is_admin:
        raise errors.Forbidden("Only an administrator can list agents.", code="admins_only")
    return {"agents": agents.list_agents()}


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)

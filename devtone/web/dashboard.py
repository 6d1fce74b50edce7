"""The agents' side: the dashboard page, agent management, and the dashboard feed's API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import agents, alerts, password_resets
from devtone.domain.api_tokens import TokenIdentity
from devtone.feeds import dashboard as dashboard_feed
from devtone.feeds import loop, snapshots_of
from devtone.mail import Mailer, MailNotSent, mailer_of
from devtone.realtime import broker_of, stream_slots_of
from devtone.realtime.stream_slots import given_back_if_never_run
from devtone.web import reset_links
from devtone.web.errors import translated
from devtone.web.forms import ActionForm, AgentForm
from devtone.web.request import (
    WAIT_MAX,
    agent,
    json_object,
    require_scope,
    team_member,
    whole_number,
)
from devtone.web.sse_response import event_stream, stream_settings, team_still_allowed

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index() -> str:
    """The live conversation list, statistics and transcript."""
    return render_template(
        "dashboard/index.html",
        agent=current_user,
        alerts=alerts.alert_settings(current_user),
        alert_repeat_ms=round(current_app.config["ALERT_REPEAT_SECONDS"] * 1000),
        email_on=mailer_of(current_app) is not None,
    )


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
            form.form_errors.append(translated(error))
            status = 422
        else:
            flash(gettext("%(name)s can now sign in.", name=added["name"]))
            return redirect(url_for("dashboard.agents_page"))
    elif request.method == "POST":
        status = 400
    listed = agents.list_agents()
    return render_template(
        "dashboard/agents.html",
        form=form,
        action=ActionForm(),
        agents=listed,
        mail=mailer_of(current_app) is not None,
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
        flash(translated(error))
    else:
        flash(
            gettext("%(name)s is reactivated.", name=changed["name"])
            if changed["active"]
            else gettext("%(name)s is deactivated.", name=changed["name"])
        )
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
    flash(ngettext("Signed out of %(num)d browser.", "Signed out of %(num)d browsers.", ended))
    return redirect(url_for("dashboard.agents_page"))


@bp.post("/dashboard/agents/<id:agent_id>/reset-link")
@login_required
def issue_reset_link(agent_id: int) -> Response | tuple[str, int, dict[str, str]]:
    """A one-time password reset link for an agent (administrators, for themselves too):
    shown once to copy, or with `send=email` e-mailed to the agent. Older links stop working."""
    _require_admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    by_email = request.form.get("send") == "email"
    mailer = mailer_of(current_app)
    if by_email and mailer is None:
        abort(400)  # the button is only there with e-mail configured
    try:
        link = password_resets.issue_reset_link(agent_id, current_user, reset_links.lifetime())
    except errors.NotFound:
        abort(404)
    except errors.Conflict as error:
        flash(translated(error))
        return redirect(url_for("dashboard.agents_page"))
    failure = _email_link(link, mailer) if by_email else None
    if by_email and failure is None:
        flash(gettext("A reset link is on its way to %(address)s.", address=link.agent.email))
        return redirect(url_for("dashboard.agents_page"))
    page = render_template(
        "dashboard/reset_link.html",
        link=link,
        address=reset_links.link_address(link.token),
        minutes=reset_links.minutes(),
        failure=failure,
    )
    # Shown once: no cache keeps the link; a mail server that failed is a bad gateway.
    return page, 502 if failure else 200, {"Cache-Control": "no-store"}


def _email_link(link: password_resets.ResetLink, mailer: Mailer) -> MailNotSent | None:
    """Send the link to its agent now, so the admin learns at once when it cannot go."""
    try:
        mailer.send(reset_links.reset_email(link, mailer.sender))
    except MailNotSent as failure:
        current_app.logger.warning(
            "reset link of agent %d not e-mailed: %s", link.agent.id, failure
        )
        return failure
    return None


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
    me = team_member()
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
    me = team_member()
    if isinstance(me, TokenIdentity):
        hello: dict[str, Any] = {"token": {"id": me.id, "name": me.name}}
    else:
        hello = {"agent": {"id": me.id, "name": me.name, "role": me.role}}
    app = current_app._get_current_object()
    snapshots = snapshots_of(app)
    reader = dashboard_feed.DashboardReader(snapshots, hello, app.config["SSE_HEARTBEAT"])
    settings = stream_settings(app, team_still_allowed(app, me), snapshots.clock)
    slot = stream_slots_of(app).acquire(None, reserved=True)  # agents' pool; given back at the end
    stream = loop.stream(reader, broker_of(app), settings, me, slot)
    return event_stream(given_back_if_never_run(slot, stream))


@bp.get("/api/dashboard/alerts")
def alert_settings() -> dict[str, Any]:
    """The signed-in agent's alert settings (which alerts, and quiet mode)."""
    return {"alerts": alerts.alert_settings(agent())}


@bp.post("/api/dashboard/alerts")
def change_alert_settings() -> dict[str, Any]:
    """Change some of the signed-in agent's alert settings; answer with all of them."""
    me = agent()
    return {"alerts": alerts.change_alert_settings(me, json_object())}


@bp.get("/api/agents")
def list_agents() -> dict[str, Any]:
    """Every agent, for an administrator's assign-to choice (addresses stay with admins),
    or an API token with the agents:manage scope."""
    require_scope("agents:manage")
    return {"agents": agents.list_agents()}


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)

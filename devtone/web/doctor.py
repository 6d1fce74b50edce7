"""The doctor: the admins' page, what it measures against, and where its findings are judged.

The stream and the wait are public (the command line has only the URL), cheap, bounded
and rate-limited; judging needs an administrator, and the rules are devtone.doctor's.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_decimal, gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.doctor import checks
from devtone.doctor.observations import read_observations
from devtone.extensions import limiter
from devtone.feeds import doctor as probes
from devtone.realtime import broker_of, stream_slots_of
from devtone.realtime.stream_slots import given_back_if_never_run
from devtone.web.request import WAIT_MAX, agent, json_object, whole_number
from devtone.web.sse_response import event_stream, stream_settings

bp = Blueprint("doctor", __name__)

#: The stream and the wait count together, per client address.
limit_probes = limiter.shared_limit(
    lambda: current_app.config["DOCTOR_RATE_LIMIT"],
    scope="doctor",
    error_message="Too many doctor runs from this address; try again later.",
)


@bp.get("/dashboard/doctor")
@login_required
def page() -> str:
    """The doctor, run from the admin's own browser: the real way to the server."""
    if not current_user.is_admin:
        abort(403)
    return render_template("dashboard/doctor.html", agent=current_user)


@bp.get("/api/doctor/stream")
@limit_probes
def stream() -> Response:
    """An SSE stream: hello at once, one ping a heartbeat later, then the end."""
    app = current_app._get_current_object()
    slot = stream_slots_of(app).acquire(None)  # counts like any stream; given back at the end
    frames = probes.probe_stream(broker_of(app), stream_settings(app), slot)
    return event_stream(given_back_if_never_run(slot, frames))


@bp.get("/api/doctor/wait")
@limit_probes
def wait() -> dict[str, Any]:
    """The server's time after `seconds` s (0 to the long-poll maximum), as long-poll waits."""
    seconds = whole_number("seconds", request.args.get("seconds"), default=0, high=WAIT_MAX)
    with stream_slots_of(current_app).acquire_for_wait(None, seconds):
        return probes.probe_wait(broker_of(current_app), seconds)


@bp.post("/api/doctor/findings")
def findings() -> dict[str, Any]:
    """What the admin's browser saw, judged: each check's finding with its fixes."""
    me = agent()
    if not me.is_admin:
        raise errors.Forbidden("Only an administrator can run the doctor.", code="admins_only")
    judged = checks.judge(read_observations(json_object()))
    return {
        "passed": checks.passed(judged),
        "findings": [finding.render(gettext, _number) for finding in judged],
    }


def _number(value: float) -> str:
    return format_decimal(value, "0.0")

"""/dashboard/office-hours: administrators set the days, times, time zone and holidays."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import office_hours
from devtone.domain.office_hours import WEEKDAYS
from devtone.web.errors import translated
from devtone.web.forms import ActionForm

bp = Blueprint("office_hours", __name__)


@bp.route("/dashboard/office-hours", methods=["GET", "POST"])
@login_required
def page() -> Response | tuple[str, int]:
    """The office hours form (administrators only); saved, it applies at once."""
    if not current_user.is_admin:
        abort(403)
    form = ActionForm()
    shown, error, status = office_hours.current_schedule().as_json(), None, 200
    if form.validate_on_submit():
        shown = _schedule_from(request.form)
        try:
            office_hours.save_schedule(shown, current_user)
        except errors.Invalid as refused:
            error, status = refused, 422
        else:
            flash(gettext("Office hours saved."))
            return redirect(url_for("office_hours.page"))
    elif request.method == "POST":
        abort(400)
    return render_template(
        "dashboard/office_hours.html",
        form=form,
        schedule=shown,
        weekdays=WEEKDAYS,
        zones=office_hours.time_zones(),
        error=error,
        message=translated(error) if error else "",
    ), status


def _schedule_from(fields: Any) -> dict[str, Any]:
    """The form's fields in the schedule's JSON shape (the domain checks the values)."""
    days = {}
    for day in WEEKDAYS:
        opens, closes = fields.get(f"{day}_open", ""), fields.get(f"{day}_close", "")
        days[day] = {"open": opens, "close": closes} if fields.get(f"{day}_on") else None
    holidays = fields.get("holidays", "").replace(",", " ").split()
    return {
        "enabled": fields.get("enabled") == "1",
        "time_zone": fields.get("time_zone", ""),
        "days": days,
        "holidays": holidays,
    }

"""/dashboard/webhooks: the administrators' page of webhook endpoints (a plain form, no
script): register one (its secret shown once, on the answer), see why one is disabled,
delete one, and an endpoint's recent deliveries, each with a button to redeliver it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import webhook_events, webhooks
from devtone.web.errors import status_of, translated
from devtone.web.forms import ActionForm

bp = Blueprint("webhooks_page", __name__, url_prefix="/dashboard/webhooks")


@bp.route("", methods=["GET", "POST"])
@login_required
def page() -> str | tuple[str, int]:
    """The endpoints, and the form that registers one (the answer shows its secret)."""
    me = _admin()
    form = ActionForm()
    shown: dict[str, Any] = {}
    created, error, status = None, None, 200
    if form.validate_on_submit():
        shown = _fields(request.form)
        try:
            created = webhooks.register_endpoint(me, shown)
        except errors.DevtoneError as refused:
            error, status = refused, status_of(refused)
        else:
            shown, status = {}, 201
    elif request.method == "POST":
        abort(400)
    return _render(form, shown, error, created), status


@bp.post("/<id:endpoint_id>/delete")
@login_required
def delete(endpoint_id: int) -> Response:
    """Delete an endpoint."""
    me = _admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        webhooks.delete_endpoint(me, endpoint_id)
    except errors.NotFound:
        abort(404)
    flash(gettext("Endpoint deleted."))
    return redirect(url_for("webhooks_page.page"))


@bp.get("/<id:endpoint_id>")
@login_required
def deliveries(endpoint_id: int) -> str:
    """An endpoint's recent deliveries, newest first, each with a redeliver button."""
    me = _admin()
    try:
        endpoint = next(e for e in webhooks.list_endpoints(me) if e["id"] == endpoint_id)
    except StopIteration:
        abort(404)
    return render_template(
        "dashboard/webhook_deliveries.html",
        form=ActionForm(),
        endpoint=endpoint,
        deliveries=webhooks.recent_deliveries(me, endpoint_id),
    )


@bp.post("/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
@login_required
def redeliver(endpoint_id: int, delivery_id: int) -> Response:
    """Queue a delivery again, now (same event id); back to the deliveries."""
    me = _admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        webhooks.redeliver(me, endpoint_id, delivery_id)
    except errors.NotFound:
        abort(404)
    flash(gettext("Delivery queued again."))
    return redirect(url_for("webhooks_page.deliveries", endpoint_id=endpoint_id))


def _admin() -> Any:
    if not current_user.is_admin:
        abort(403)
    return current_user._get_current_object()


def _render(
    form: ActionForm,
    shown: dict[str, Any],
    error: errors.DevtoneError | None,
    created: dict[str, Any] | None,
) -> str:
    return render_template(
        "dashboard/webhooks.html",
        form=form,
        endpoints=webhooks.list_endpoints(current_user._get_current_object()),
        types=webhook_events.TYPES,
        shown=shown,
        error=error,
        message=translated(error) if error else "",
        created=created,
    )


def _fields(form: Any) -> dict[str, Any]:
    """The form's fields in the API's shape (the domain checks them)."""
    return {
        "url": form.get("url", ""),
        "events": form.getlist("events"),
        "include_notes": form.get("include_notes") == "1",
    }

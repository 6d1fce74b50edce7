"""Canned replies over HTTP: the API the composer reads, and /dashboard/canned-replies,
where agents keep their own and administrators the team's (a plain form; no script)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import canned_replies
from devtone.web.errors import status_of, translated
from devtone.web.forms import ActionForm
from devtone.web.request import agent, json_object

bp = Blueprint("canned_replies", __name__)


@bp.get("/api/canned-replies")
def list_replies() -> dict[str, Any]:
    """The team's replies and the caller's own."""
    return {"canned_replies": canned_replies.visible_replies(agent())}


@bp.post("/api/canned-replies")
def create_reply() -> tuple[dict[str, Any], int]:
    """Save a reply (`shared`: the team's, administrators only)."""
    me = agent()
    return {"canned_reply": canned_replies.create_reply(me, json_object())}, 201


@bp.put("/api/canned-replies/<id:reply_id>")
def change_reply(reply_id: int) -> dict[str, Any]:
    """Change a reply the caller keeps."""
    me = agent()
    return {"canned_reply": canned_replies.change_reply(me, reply_id, json_object())}


@bp.delete("/api/canned-replies/<id:reply_id>")
def delete_reply(reply_id: int) -> tuple[str, int]:
    """Delete a reply the caller keeps."""
    canned_replies.delete_reply(agent(), reply_id)
    return "", 204


@bp.route("/dashboard/canned-replies", methods=["GET", "POST"])
@login_required
def page() -> Response | tuple[str, int]:
    """The replies the agent sees, a form for each they keep, and one to add a reply."""
    form = ActionForm()
    shown, error, status = {}, None, 200
    if form.validate_on_submit():
        shown = _fields(request.form)
        try:
            created = canned_replies.create_reply(current_user, shown)
        except errors.DevtoneError as refused:
            error, status = refused, status_of(refused)
        else:
            flash(gettext("Reply /%(shortcut)s saved.", shortcut=created["shortcut"]))
            return redirect(url_for("canned_replies.page"))
    elif request.method == "POST":
        abort(400)
    return _render(form, shown, error, None), status


@bp.post("/dashboard/canned-replies/<id:reply_id>")
@login_required
def keep(reply_id: int) -> Response | tuple[str, int]:
    """Save the changes to one reply, or delete it (`action=delete`)."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    deleting = request.form.get("action") == "delete"
    try:
        if deleting:
            canned_replies.delete_reply(current_user, reply_id)
        else:
            canned_replies.change_reply(current_user, reply_id, _fields(request.form))
    except errors.DevtoneError as refused:
        return _render(form, {}, refused, reply_id), status_of(refused)
    flash(gettext("Reply deleted.") if deleting else gettext("Reply saved."))
    return redirect(url_for("canned_replies.page"))


def _render(
    form: ActionForm, shown: dict[str, Any], error: errors.DevtoneError | None, failed: int | None
) -> str:
    return render_template(
        "dashboard/canned_replies.html",
        form=form,
        replies=canned_replies.visible_replies(current_user),
        shown=shown,
        error=error,
        failed=failed,  # the reply whose form the error is about (None: the new one's)
        message=translated(error) if error else "",
        shortcut_max=canned_replies.SHORTCUT_MAX,
        text_max=canned_replies.TEXT_MAX,
    )


def _fields(form: Any) -> dict[str, Any]:
    """The form's fields in the API's shape (the domain checks them)."""
    return {
        "shortcut": form.get("shortcut", ""),
        "text": form.get("text", ""),
        "shared": form.get("shared") == "1",
    }

"""/dashboard/api-tokens: administrators make, see and revoke API tokens in a plain form.

The token is shown once, on the page that answers its creation (never cached, never in a
redirect's URL); after that only its prefix is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import api_tokens
from devtone.web.errors import status_of, translated
from devtone.web.forms import ActionForm

bp = Blueprint("token_pages", __name__)


@bp.route("/dashboard/api-tokens", methods=["GET", "POST"])
@login_required
def page() -> tuple[str, int, dict[str, str]]:
    """The tokens, and a form to make one; after making one, the token itself, once."""
    _require_admin()
    form = ActionForm()
    shown: dict[str, Any] = {}
    made, error, status = None, None, 200
    if form.validate_on_submit():
        shown = {"name": request.form.get("name", ""), "scopes": request.form.getlist("scopes")}
        try:
            made, token = api_tokens.create_token(current_user, shown["name"], shown["scopes"])
        except errors.DevtoneError as refused:
            error, status = refused, status_of(refused)
        else:
            made = {**made, "token": token}
            shown, status = {}, 201
    elif request.method == "POST":
        abort(400)
    page = render_template(
        "dashboard/api_tokens.html",
        form=form,
        tokens=[_readable(token) for token in api_tokens.list_tokens()],
        scopes=api_tokens.SCOPES,
        made=made,
        shown=shown,
        error=error,
        message=translated(error) if error else "",
    )
    # The page that shows a token must never be kept by a cache or the back button.
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/dashboard/api-tokens/<id:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke a token: every call with it is refused from now on."""
    _require_admin()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        revoked = api_tokens.revoke_token(current_user, token_id)
    except errors.NotFound:
        abort(404)
    flash(gettext("Token “%(name)s” revoked.", name=revoked["name"]))
    return redirect(url_for("token_pages.page"))


def _readable(token: dict[str, Any]) -> dict[str, Any]:
    """A token with its times worded in the reader's language."""
    return {
        **token,
        "created_label": _when(token["created_at"]),
        "last_used_label": _when(token["last_used_at"]) or gettext("never"),
        "revoked_label": _when(token["revoked_at"]),
    }


def _when(moment: str | None) -> str:
    if moment is None:
        return ""
    return format_datetime(datetime.fromisoformat(moment), "short")


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)

"""/dashboard/visitor-data: administrators export or erase a visitor's data from a page (a
plain form; no script). Export is a GET of the API's file (the browser downloads it);
erasing needs its confirmation box ticked (docs/privacy.md)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import audit, erasure
from devtone.file_store import files_of
from devtone.web.errors import translated
from devtone.web.forms import ActionForm

bp = Blueprint("visitor_data", __name__)


@bp.route("/dashboard/visitor-data", methods=["GET", "POST"])
@login_required
def page() -> Response | tuple[str, int]:
    """The export and erase forms (administrators only); an erasure says what it erased."""
    if not current_user.is_admin:
        abort(403)
    form = ActionForm()
    email, error, status = request.form.get("email", ""), None, 200
    if form.validate_on_submit():
        try:
            if request.form.get("confirm") != "1":
                raise errors.Invalid(
                    "Tick the box to confirm: erasing cannot be undone.", field="confirm"
                )
            me = audit.Actor("agent", current_user.id, current_user.name)
            erased = erasure.erase_visitor(email, me, files_of(current_app))
        except errors.Invalid as refused:
            error, status = refused, 422
        else:
            flash(
                ngettext(
                    "%(num)d conversation erased.", "%(num)d conversations erased.",
                    erased["conversations"],
                )
            )  # fmt: skip
            return redirect(url_for("visitor_data.page"))
    elif request.method == "POST":
        abort(400)
    return render_template(
        "dashboard/visitor_data.html",
        form=form,
        email=email,
        error=error,
        message=translated(error) if error else "",
    ), status

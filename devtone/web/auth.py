"""/dashboard/login and logout: agents sign in with Flask-Login; attempts are rate-limited."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import agents
from devtone.extensions import limiter, login_manager
from devtone.web import limits
from devtone.web.errors import translated
from devtone.web.forms import ActionForm, SignInForm

bp = Blueprint("auth", __name__, url_prefix="/dashboard")

FAILED = lazy_gettext("That e-mail address and password do not match an active agent.")


def _attempt_key() -> str:
    """Sign-in attempts count per client address and e-mail address: one office's agents
    do not use up each other's tries, and every attempt counts before the password is
    checked (counting failures afterwards would let concurrent guesses through)."""
    email = request.form.get("email", "").strip().lower()[:254]
    return f"{get_remote_address()}|{email}"


@bp.route("/login", methods=["GET", "POST"])
@limits.limit_sign_ins_per_address
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_attempt_key
)
def login() -> Response | tuple[str, int]:
    """The sign-in form; on success, the dashboard (or the page that asked for sign-in)."""
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = SignInForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("dashboard/login.html", form=form, error=None), status
    try:
        limits.wait_for_account(form.email.data)
    except errors.TooManyRequests as refused:
        page = render_template("dashboard/login.html", form=form, error=translated(refused))
        return page, 429, {"Retry-After": str(refused.retry_after)}
    agent = agents.sign_in(form.email.data, form.password.data, request.user_agent.string)
    if agent is None:
        limits.account_failed(form.email.data)
        return render_template("dashboard/login.html", form=form, error=FAILED), 401
    login_user(agent)
    response = redirect(_next_page())
    limits.account_signed_in(form.email.data, response)
    return response


@bp.post("/logout")
def logout() -> Response:
    """Sign out (a POST with the CSRF token, so no other site can sign an agent out); the
    session ends for good, so a copy of its cookie opens nothing either."""
    if ActionForm().validate_on_submit():
        if current_user.is_authenticated:
            agents.end_session(current_user)
        logout_user()
    return redirect(url_for("auth.login"))


@bp.errorhandler(429)
def too_many_attempts(error: Exception) -> tuple[str, int]:
    """The sign-in form again, saying why it is refused for now."""
    message = gettext("Too many sign-in attempts. Wait a minute and try again.")
    return render_template("dashboard/login.html", form=SignInForm(), error=message), 429


def init_app(app: Flask) -> None:
    """Tell Flask-Login how to find an agent and what to do with anonymous callers."""
    login_manager.user_loader(agents.load_agent)

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        if request.path.startswith("/api/"):
            raise errors.Unauthorized("Sign in as an agent first.", code="not_signed_in")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _next_page() -> str:
    """Where to go after signing in: a path on this site only (never `//evil.example`)."""
    target = request.args.get("next", "")
    # Browsers read "/\\host" as "//host"; a backslash has no place in our paths anyway.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        # CR/LF would split the Location header (a 500); no page of ours has a control or
        # other invisible character in its address either.
        if target.isprintable() and not urlsplit(target).netloc:
            return target
    return url_for("dashboard.index")

"""Forgotten passwords: asking for a reset link by e-mail, and setting a new password
through a link (an administrator's, or the e-mailed one). Both forms are rate-limited.

A link's token goes from its address into this browser's session at once
(/dashboard/reset/<token> → /dashboard/new-password), as Django's password reset does:
the page where the password is typed, its Referer headers and the browser's history
never hold the token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from devtone import errors
from devtone.domain import agents, password_resets
from devtone.mail import mailer_of
from devtone.web import limits, reset_links
from devtone.web.errors import status_of
from devtone.web.forms import ForgotPasswordForm, NewPasswordForm

bp = Blueprint("password_reset", __name__, url_prefix="/dashboard")

#: The session key that holds the token of the link this browser opened.
SESSION_TOKEN = "password_reset_token"  # noqa: S105 - a key, not a secret


@bp.route("/forgot-password", methods=["GET", "POST"])
@limits.limit_resets_per_address
@limits.limit_reset_emails_per_account
def forgot_password() -> tuple[str, int]:
    """Ask for a reset link by e-mail; the answer is the same whatever the address. Without
    e-mail configured, the page says to ask an administrator."""
    mailer = mailer_of(current_app)
    form = ForgotPasswordForm()
    if mailer is None or not form.validate_on_submit():
        status = 400 if mailer is not None and request.method == "POST" else 200
        return _forgot_page(form, mail=mailer is not None), status
    link = password_resets.issue_reset_link_for(form.email.data, reset_links.lifetime())
    if link is not None:
        # In the background: the answer comes as fast for an address that has no account,
        # and a mail server that is down costs the page nothing (the failure is logged).
        mailer.send_later(reset_links.reset_email(link, mailer.sender))
    return _forgot_page(form, mail=True, sent=True), 200


@bp.get("/reset/<token>")
def open_link(token: str) -> Response | tuple[str, int]:
    """A reset link: kept in this browser's session, then on to the new-password form."""
    try:
        password_resets.link_holder(token)
    except (errors.NotFound, errors.Conflict) as problem:
        return _problem_page(problem.code, status_of(problem))
    session[SESSION_TOKEN] = token
    return redirect(url_for("password_reset.new_password"))


@bp.route("/new-password", methods=["GET", "POST"])
@limits.limit_resets_per_address
def new_password() -> Response | tuple[str, int]:
    """Set a new password through the link this browser opened; then signed in, and every
    other session of the agent ended."""
    token = session.get(SESSION_TOKEN)
    if not token:
        return _problem_page("reset_link_missing", 404)
    form = NewPasswordForm()
    try:
        if not form.validate_on_submit():
            holder = password_resets.link_holder(token)
            return _new_password_page(form, holder), 400 if request.method == "POST" else 200
        agent = password_resets.reset_password(token, form.password.data, request.user_agent.string)
    except (errors.NotFound, errors.Conflict) as problem:
        return _problem_page(problem.code, status_of(problem))
    except errors.Invalid as refused:
        form.password.errors = [*form.password.errors, refused.message]
        return _new_password_page(form, password_resets.link_holder(token)), 422
    session.pop(SESSION_TOKEN, None)
    # Signed in as the agent who just chose the password: they proved they hold the link,
    # and asking them to type it again at once would only be in the way. Someone else
    # signed in on this browser (an admin trying the link) is signed out first.
    if current_user.is_authenticated:
        agents.end_session(current_user)
    login_user(agent)
    response = redirect(url_for("dashboard.index"))
    limits.account_signed_in(agent.email, response)
    return response


@bp.errorhandler(429)
def too_many_requests(error: Exception) -> tuple[str, int]:
    """Over the reset limits: a page saying to wait (Flask-Limiter adds Retry-After)."""
    return _problem_page("too_many_requests", 429)


@bp.after_request
def never_cached(response: Response) -> Response:
    """These pages name an account and come from a one-time link: keep no copy anywhere."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _forgot_page(form: ForgotPasswordForm, *, mail: bool, sent: bool = False) -> str:
    return render_template(
        "dashboard/forgot_password.html",
        form=form,
        mail=mail,
        sent=sent,
        minutes=reset_links.minutes(),
    )


def _new_password_page(form: NewPasswordForm, holder: agents.AgentIdentity) -> str:
    return render_template("dashboard/new_password.html", form=form, agent=holder)


def _problem_page(problem: str, status: int) -> tuple[str, int]:
    return render_template("dashboard/reset_problem.html", problem=problem), status

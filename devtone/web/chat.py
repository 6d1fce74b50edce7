"""/chat: the customer page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from devtone.domain.team import current_team

bp = Blueprint("chat", __name__)


@bp.get("/")
def index() -> Response:
    """The root sends a newcomer to the chat page."""
    return redirect(url_for("chat.chat"))


@bp.get("/chat")
def chat() -> str:
    """The customer chat page; everything after the first paint comes from the API (but
    the greeting of an empty conversation, which comes with the page)."""
    return render_template("chat.html", team=current_team())

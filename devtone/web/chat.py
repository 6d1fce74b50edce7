"""/chat: the customer page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

bp = Blueprint("chat", __name__)


@bp.get("/")
def index() -> Response:
    """The root sends a newcomer to the chat page."""
    return redirect(url_for("chat.chat"))


@bp.get("/chat")
def chat() -> str:
    """The customer chat page; everything after the first paint comes from the API."""
    return render_template("chat.html")

"""Presence over HTTP: an open dashboard's beat (and the team it is answered with), and
what a visitor's page is told before they write (available, or away until when)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtone.domain import agent_presence, availability
from devtone.web.request import agent, json_object

bp = Blueprint("presence", __name__, url_prefix="/api")


@bp.post("/presence")
def beat() -> dict[str, Any]:
    """The signed-in agent's dashboard is open (`active`: they did something since the
    last beat; `away`: set or cleared by hand); answered with the team's presence."""
    me = agent()
    fields = json_object()
    return agent_presence.beat(me, fields.get("active"), fields.get("away"))


@bp.get("/availability")
def current_availability() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Whether someone will reply soon, or when the team opens next; read by the chat page
    and the widget's frame when they show the start of a conversation."""
    found = availability.current_availability()
    # Presence moves by the minute: never kept by a cache.
    return found.as_json(), 200, {"Cache-Control": "no-store"}

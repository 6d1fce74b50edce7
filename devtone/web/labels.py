"""Labels over HTTP: the team's labels (admins create them) and a conversation's set."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtone.domain import labels
from devtone.web.request import agent, json_object

bp = Blueprint("labels", __name__, url_prefix="/api")


@bp.get("/labels")
def list_labels() -> dict[str, Any]:
    """Every label, for agents."""
    agent()
    return {"labels": labels.list_labels()}


@bp.post("/labels")
def create_label() -> tuple[dict[str, Any], int]:
    """Define a label (admins)."""
    who = agent()
    fields = json_object()
    return {"label": labels.create_label(who, fields.get("name"), fields.get("colour"))}, 201


@bp.put("/conversations/<id:conversation_id>/labels")
def set_labels(conversation_id: int) -> dict[str, Any]:
    """Give the conversation exactly these labels."""
    who = agent()
    names = json_object().get("labels")
    return {"conversation": labels.set_conversation_labels(conversation_id, who, names)}

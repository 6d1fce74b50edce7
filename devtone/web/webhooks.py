"""Webhook endpoints over HTTP, for administrators (cookie + CSRF, like the dashboard's
other admin calls): register, list, delete, recent deliveries, redeliver."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtone.domain import webhooks
from devtone.web.request import agent, json_object

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")


@bp.post("")
def register_endpoint() -> tuple[dict[str, Any], int]:
    """Register an endpoint; the answer carries its secret, shown only here."""
    me = agent()
    return webhooks.register_endpoint(me, json_object()), 201


@bp.get("")
def list_endpoints() -> dict[str, Any]:
    """Every endpoint, enabled or disabled (with why), without secrets."""
    return {"webhooks": webhooks.list_endpoints(agent())}


@bp.delete("/<id:endpoint_id>")
def delete_endpoint(endpoint_id: int) -> tuple[str, int]:
    """Delete an endpoint: nothing more is sent to it."""
    webhooks.delete_endpoint(agent(), endpoint_id)
    return "", 204


@bp.get("/<id:endpoint_id>/deliveries")
def recent_deliveries(endpoint_id: int) -> dict[str, Any]:
    """The endpoint's recent deliveries, newest first."""
    return {"deliveries": webhooks.recent_deliveries(agent(), endpoint_id)}


@bp.post("/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
def redeliver(endpoint_id: int, delivery_id: int) -> tuple[dict[str, Any], int]:
    """Queue a delivery again, now, with the same event id."""
    return {"delivery": webhooks.redeliver(agent(), endpoint_id, delivery_id)}, 202

"""The realtime API: what tiers the server allows, and the browsers' reports of their moves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from flask_login import current_user

from devtone import errors
from devtone.extensions import limiter
from devtone.feeds import connection_log
from devtone.realtime import tiers
from devtone.web.request import json_object

bp = Blueprint("api_realtime", __name__, url_prefix="/api/realtime")


@bp.get("/negotiate")
def negotiate() -> dict[str, Any]:
    """The tiers this server allows and the client's timings."""
    return tiers.negotiation(current_app.config)


@bp.post("/report")
@limiter.limit(lambda: current_app.config["TIER_REPORT_RATE_LIMIT"])
def report_tier_change() -> tuple[str, int]:
    """A browser moved from one tier to another (a fallback or an upgrade), and why."""
    fields = json_object()
    source = _choice(fields, "from", connection_log.TIERS)
    target = _choice(fields, "to", connection_log.TIERS)
    reason = _choice(fields, "reason", connection_log.REPORT_REASONS)
    kind = _choice(fields, "kind", connection_log.KINDS, required=False)
    if source == target:
        raise errors.Invalid("from and to must be different tiers.", field="to")
    connection_log.tier_change(source, target, reason, _reporter(), kind)
    return "", 204


def _reporter() -> object:
    # Who reports, for the log line only. The report is unauthenticated telemetry (it
    # changes nothing stored): a signed-in agent's page is named, anyone else is a visitor.
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return "visitor"


def _choice(
    fields: dict[str, Any], name: str, allowed: tuple[str, ...], required: bool = True
) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise errors.Invalid(
            "{field} must be one of {allowed}.", field=name, allowed=", ".join(allowed)
        )
    return value

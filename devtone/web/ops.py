"""/healthz and /readyz for load balancers and orchestrators; /metrics for Prometheus."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, request

from devtone import metrics
from devtone.database import readiness_of
from devtone.realtime import broker_of
from devtone.web.errors import error_response

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """Alive: the process answers HTTP."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Ready: the database answers; the broker's state is reported too.

    Without the database nothing works: 503, take this process out of rotation. Without
    the broker everything still works, only slower (streams repair from the database at
    each heartbeat): 200 with status "degraded", because pulling every process out of
    the load balancer over a Redis outage would turn slow into down.
    """
    # Each within its own short timeout, so a hung database or Redis costs the load
    # balancer's probe under 2 s, never its own timeout.
    database = "ok" if readiness_of(current_app)() else "unavailable"
    broker = "ok" if broker_of(current_app).ping() else "unavailable"
    if database != "ok":
        return {"status": "unavailable", "database": database, "broker": broker}, 503
    status = "ok" if broker == "ok" else "degraded"
    return {"status": status, "database": database, "broker": broker}, 200


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus text for a scraper holding DEVTONE_METRICS_TOKEN; 404 when none is set."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        # Off unless configured: counts of connections are nobody's business by default.
        return error_response(404, "not_found", "The requested URL was not found.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest on bytes: constant time, and a non-ASCII header cannot raise.
    valid = scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )
    if not valid:
        return error_response(401, "invalid_token", "Send 'Authorization: Bearer <metrics token>'.")
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})

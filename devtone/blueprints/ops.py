"""/healthz and /readyz for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from devtone.extensions import db
from devtone.realtime import broker_of

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
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # whatever the failure, the answer is "not ready"
        database = "unavailable"
    finally:
        db.session.close()
    broker = "ok" if broker_of(current_app).ping() else "unavailable"
    if database != "ok":
        return {"status": "unavailable", "database": database, "broker": broker}, 503
    status = "ok" if broker == "ok" else "degraded"
    return {"status": status, "database": database, "broker": broker}, 200

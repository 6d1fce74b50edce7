"""/healthz and /readyz for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from devtone.extensions import db

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """Alive: the process answers HTTP."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Ready: the database answers (the in-process broker always does)."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # whatever the failure, the answer is "not ready"
        database = "unavailable"
    finally:
        db.session.close()
    ready = database == "ok"
    return {"status": "ok" if ready else "unavailable", "database": database}, (
        200 if ready else 503
    )

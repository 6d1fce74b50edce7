"""GET /api/search: agents search every conversation (domain/search.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from devtone.domain import search as searching
from devtone.web.request import team_member, whole_number

bp = Blueprint("search", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> tuple[dict[str, Any], int, dict[str, str]]:
    """One page of results, best first."""
    team_member()
    args = request.args
    agent_id = args.get("agent_id")
    found = searching.search(
        q=args.get("q", ""),
        label=args.get("label"),
        status=args.get("status"),
        agent_id=whole_number("agent_id", agent_id, 0, low=1) if agent_id else None,
        since=args.get("from"),
        until=args.get("to"),
        page=whole_number("page", args.get("page"), default=1, low=1, high=10_000),
    )
    # Results name visitors and quote what they wrote: never kept by a cache.
    return found, 200, {"Cache-Control": "no-store"}

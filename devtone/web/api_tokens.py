"""/api/tokens: administrators make, list and revoke API tokens; /api/audit reads the log.

Signed-in administrators only (session and CSRF): a token can never make or revoke one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from devtone import errors
from devtone.domain import api_tokens, audit
from devtone.web.request import agent, json_object, whole_number

bp = Blueprint("api_tokens", __name__, url_prefix="/api")


@bp.post("/tokens")
def create_token() -> tuple[dict[str, Any], int]:
    """Make a token; the answer carries it, the only time it is ever shown."""
    fields = json_object()
    made, token = api_tokens.create_token(agent(), fields.get("name"), fields.get("scopes"))
    return {**made, "token": token}, 201


@bp.get("/tokens")
def list_tokens() -> dict[str, Any]:
    """Every token, newest first, without its secret."""
    _admin()
    return {"tokens": api_tokens.list_tokens()}


@bp.delete("/tokens/<id:token_id>")
def revoke_token(token_id: int) -> dict[str, Any]:
    """Revoke a token: from now on every call with it gets 401."""
    return {"token": api_tokens.revoke_token(agent(), token_id)}


@bp.get("/audit")
def audit_log() -> tuple[dict[str, Any], int, dict[str, str]]:
    """One page of the audit log, newest first; `before` (an entry's id) pages back."""
    _admin()
    limit = whole_number("limit", request.args.get("limit"), 50, low=1, high=audit.PAGE_MAX)
    before = request.args.get("before")
    entries = audit.recent(limit, whole_number("before", before, 0, low=1) if before else None)
    # The next page starts before the oldest entry of this one, while pages are full.
    following = entries[-1]["id"] if len(entries) == limit else None
    return {"entries": entries, "next_before": following}, 200, {"Cache-Control": "no-store"}


def _admin() -> None:
    if not agent().is_admin:
        raise errors.Forbidden("Only an administrator can do this.", code="admins_only")

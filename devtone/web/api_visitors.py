"""A visitor's data on request, for administrators: export it as one JSON file, erase it
(domain/visitor_export.py, domain/erasure.py; docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request, stream_with_context

from devtone import errors
from devtone.domain import audit, erasure, visitor_export
from devtone.domain.api_tokens import TokenIdentity
from devtone.domain.models import utcnow
from devtone.file_store import files_of
from devtone.web.request import json_object, require_scope

bp = Blueprint("api_visitors", __name__, url_prefix="/api/visitors")


@bp.get("/export")
def export() -> Response:
    """Everything about the visitor with `?email=` or `?identity=`, as a JSON file
    (streamed: a page of messages and a slice of a file at a time). Nothing found is an
    empty export, 200."""
    args = request.args
    found = visitor_export.export_visitor(args.get("email"), _admin(), args.get("identity"))
    chunks = found.chunks(files_of(current_app))
    name = f"devtone-visitor-export-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.json"
    return Response(
        stream_with_context(chunks),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # Someone's personal data: no cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )


@bp.post("/erase")
def erase() -> dict[str, Any]:
    """Erase the data of the visitor with `{"email"}` or `{"identity"}`; say how many
    conversations and files went (0 when nothing matched, or it was erased already)."""
    who = _admin()
    named = json_object()
    return erasure.erase_visitor(
        named.get("email"), who, files_of(current_app), named.get("identity")
    )


def _admin() -> audit.Actor:
    """The signed-in administrator or an API token with agents:manage, as the audit log
    names them."""
    try:
        me = require_scope("agents:manage")
    except errors.Forbidden as refused:
        if refused.code != "admins_only":
            raise
        # An agent is told what only admins may do here, not just that they may not.
        raise errors.Forbidden(
            "Only an administrator can export or erase a visitor's data.", code="admins_only"
        ) from None
    if isinstance(me, TokenIdentity):
        return me.actor
    return audit.Actor("agent", me.id, me.name)

"""The JSON API under /api: each view parses, makes one domain call, and renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from devtone import conversations, errors
from devtone.realtime import broker_of, heads_of, streams, tiers
from devtone.visitors import Visitor

bp = Blueprint("api", __name__, url_prefix="/api")

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # nginx buffers proxied responses unless told not to; SSE must flow byte by byte.
    "X-Accel-Buffering": "no",
}
WAIT_MAX = 30


@bp.post("/conversations")
def start_conversation() -> tuple[dict[str, Any], int]:
    """Open a conversation; the answer carries the visitor's token, once."""
    fields = _json_object()
    conversation, token = conversations.start_conversation(fields.get("name"), fields.get("email"))
    return {"conversation": conversation, "token": token}, 201


@bp.get("/conversations/<int:conversation_id>")
def get_conversation(conversation_id: int) -> dict[str, Any]:
    """One conversation."""
    caller = _caller()
    return {"conversation": conversations.get_conversation(conversation_id, caller)}


@bp.post("/conversations/<int:conversation_id>/messages")
def post_message(conversation_id: int) -> tuple[dict[str, Any], int]:
    """Add a message; the same client_id again answers 200 with the stored one."""
    caller = _caller()
    fields = _json_object()
    message, created = conversations.post_message(
        conversation_id, caller, fields.get("body"), fields.get("client_id")
    )
    return {"message": message}, 201 if created else 200


@bp.get("/conversations/<int:conversation_id>/messages")
def list_messages(conversation_id: int) -> dict[str, Any]:
    """The log after a cursor (`after`), at most `limit` entries."""
    caller = _caller(query_token=True)
    after = _whole_number("after", request.args.get("after"), default=0)
    limit = _whole_number("limit", request.args.get("limit"), default=100, low=1)
    wait = _whole_number("wait", request.args.get("wait"), default=0, high=WAIT_MAX)
    page = streams.wait_for_messages(
        conversation_id, caller, after, limit, wait, broker_of(current_app), heads_of(current_app)
    )
    return {
        "messages": page.messages,
        "cursor": page.cursor,
        "conversation": page.conversation,
    }


@bp.get("/conversations/<int:conversation_id>/events")
def conversation_events(conversation_id: int) -> Response:
    """The SSE tier: resume from Last-Event-ID, or from `after` on a first connect."""
    caller = _caller(query_token=True)
    if "Last-Event-ID" in request.headers:
        cursor = _whole_number("Last-Event-ID", request.headers["Last-Event-ID"], 0)
    else:
        cursor = _whole_number("after", request.args.get("after"), default=0)
    conversations.authorize(conversation_id, caller)
    stream = streams.conversation_events(
        current_app._get_current_object(), conversation_id, cursor, _settings()
    )
    # direct_passthrough: the server iterates our generator of bytes as it is, without
    # werkzeug's encoding and closing wrappers (two fewer frames on every open stream).
    return Response(
        stream,
        content_type="text/event-stream",
        headers=SSE_HEADERS,
        direct_passthrough=True,
    )


@bp.get("/realtime/negotiate")
def negotiate() -> dict[str, Any]:
    """The tiers this server allows and the client's timings."""
    return tiers.negotiation(current_app.config)


def _settings() -> streams.StreamSettings:
    return streams.StreamSettings(
        heartbeat=current_app.config["SSE_HEARTBEAT"],
        retry_ms=current_app.config["SSE_RETRY_MS"],
    )


# -- parsing --------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    """The request's JSON object, or the matching 413/415/400 error."""
    if not request.is_json:
        raise errors.UnsupportedMediaType("Send the body as application/json.")
    data = request.get_json(silent=True)  # 413 is raised by Werkzeug before this parses
    if not isinstance(data, dict):
        raise errors.BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


def _caller(query_token: bool = False) -> Visitor:
    """The visitor named by the bearer token (or `?token=` on stream/long-poll GETs)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise errors.Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
    if not token and query_token:
        token = request.args.get("token", "")
    if not token:
        raise errors.Unauthorized("A visitor token is required.", code="missing_token")
    return Visitor(token.strip())


def _whole_number(
    name: str, raw: str | None, default: int, low: int = 0, high: int | None = None
) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise errors.Invalid(f"{name} must be a whole number ≥ {low}.", field=name)
    value = int(raw)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"≥ {low}"
        raise errors.Invalid(f"{name} must be {bounds}.", field=name)
    return value

"""The conversation API under /api, for visitors (bearer token) and agents (session).

Each view parses, makes one domain call, and renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from devtone.domain import conversations, identities, presence, ratings
from devtone.domain.api_tokens import on_team_side
from devtone.errors import Invalid
from devtone.feeds import conversation as conversation_feed
from devtone.feeds import heads_of, loop, typing_board_of
from devtone.realtime import broker_of, stream_slots_of
from devtone.realtime.stream_slots import given_back_if_never_run
from devtone.web import limits
from devtone.web.i18n import choose_language, language_tag
from devtone.web.request import WAIT_MAX, agent, caller, json_object, whole_number
from devtone.web.sse_response import event_stream, stream_settings, team_still_allowed

bp = Blueprint("api_conversations", __name__, url_prefix="/api")


@bp.post("/conversations")
@limits.limit_conversation_starts
def start_conversation() -> tuple[dict[str, Any], int]:
    """Open a conversation; the answer carries the visitor's token, once. A verified
    visitor (`identity`) with an open conversation gets that one instead: 200."""
    fields = json_object()
    # The page's language (the widget may have chosen one), else the browser's.
    language = language_tag(_text(fields.get("language"))) or choose_language()
    resume = fields.get("resume", True)
    if not isinstance(resume, bool):
        raise Invalid("resume must be true or false.", field="resume")
    started = identities.start_conversation(
        fields.get("name"),
        fields.get("email"),
        language,
        fields.get("identity"),
        current_app.config["IDENTITY_SECRET"],
        resume,
    )
    return _started(started), 200 if started.resumed else 201


@bp.post("/conversations/resume")
@limits.limit_identity_lookups
def resume_conversation() -> dict[str, Any]:
    """A verified visitor's open conversation, with a token for this browser."""
    fields = json_object()
    secret = current_app.config["IDENTITY_SECRET"]
    return _started(identities.resume_conversation(fields.get("identity"), secret))


@bp.post("/conversations/earlier")
@limits.limit_identity_lookups
def earlier_conversations() -> dict[str, Any]:
    """A verified visitor's closed conversations this browser does not hold yet, each with
    a token for this browser."""
    fields = json_object()
    secret = current_app.config["IDENTITY_SECRET"]
    found = identities.earlier_conversations(fields.get("identity"), secret, fields.get("known"))
    return {"earlier": [{"conversation": c, "token": token} for c, token in found]}


def _started(started: identities.Started) -> dict[str, Any]:
    answer = {"conversation": started.conversation, "token": started.token}
    if started.identity is not None:
        answer["identity"] = started.identity
    return answer


@bp.get("/conversations/<id:conversation_id>")
def get_conversation(conversation_id: int) -> dict[str, Any]:
    """One conversation."""
    return {"conversation": conversations.get_conversation(conversation_id, caller())}


@bp.post("/conversations/<id:conversation_id>/messages")
def post_message(conversation_id: int) -> tuple[dict[str, Any], int]:
    """Add a message (or an agent's note: `kind` "note"); the same client_id again answers
    200 with the stored one."""
    who = caller()
    fields = json_object()
    limits.count_message(conversation_id, who)
    message, created = conversations.post_message(
        conversation_id, who, fields.get("body"), fields.get("client_id"), fields.get("kind")
    )
    return {"message": message}, 201 if created else 200


@bp.get("/conversations/<id:conversation_id>/messages")
def list_messages(conversation_id: int) -> dict[str, Any]:
    """The log after a cursor (`after`), at most `limit` entries."""
    who = caller(query_token=True)
    after = whole_number("after", request.args.get("after"), default=0)
    limit = whole_number("limit", request.args.get("limit"), default=100, low=1)
    wait = whole_number("wait", request.args.get("wait"), default=0, high=WAIT_MAX)
    page = conversation_feed.wait_for_messages(
        conversation_id,
        who,
        after,
        limit,
        wait,
        broker_of(current_app),
        heads_of(current_app),
        stream_slots_of(current_app),
        typing_board_of(current_app),
    )
    answer = {"messages": page.messages, "cursor": page.cursor, "conversation": page.conversation}
    if page.typing is not None:
        answer["typing"] = page.typing
    return answer


@bp.get("/conversations/<id:conversation_id>/events")
def conversation_events(conversation_id: int) -> Response:
    """The SSE tier: resume from Last-Event-ID, or from `after` on a first connect."""
    who = caller(query_token=True)
    if "Last-Event-ID" in request.headers:
        cursor = whole_number("Last-Event-ID", request.headers["Last-Event-ID"], 0)
    else:
        cursor = whole_number("after", request.args.get("after"), default=0)
    conversations.authorize(conversation_id, who)
    app = current_app._get_current_object()
    # An agent's stream ends once they are deactivated, a token's once it is revoked; a
    # visitor's token never expires while its conversation exists.
    check = team_still_allowed(app, who)
    reader = conversation_feed.ConversationReader(
        app, heads_of(app), conversation_id, cursor, visitor_view=not on_team_side(who)
    )
    # Given back when the stream ends; an agent's comes from the agents' reserve.
    slot = stream_slots_of(app).acquire(conversation_id, reserved=check is not None)
    stream = loop.stream(reader, broker_of(app), stream_settings(app, check), who, slot)
    return event_stream(given_back_if_never_run(slot, stream))


@bp.post("/conversations/<id:conversation_id>/typing")
def typing(conversation_id: int) -> tuple[str, int]:
    """Tell the other side someone is typing (or stopped); nothing is stored."""
    who = caller()
    limits.count_typing(conversation_id, who)
    presence.announce_typing(conversation_id, who, json_object().get("typing"))
    return "", 204


@bp.post("/conversations/<id:conversation_id>/read")
def read(conversation_id: int) -> dict[str, Any]:
    """Move the caller's seen mark up to `seq` (the marks endpoint's `seen`)."""
    who = caller()
    limits.count_marks(conversation_id, who)
    seq = json_object().get("seq")
    return {"conversation": presence.mark_read(conversation_id, who, seq)}


@bp.post("/conversations/<id:conversation_id>/marks")
def marks(conversation_id: int) -> dict[str, Any]:
    """Move the caller's side's delivered and seen marks forward."""
    who = caller()
    limits.count_marks(conversation_id, who)
    return {"conversation": presence.move_marks(conversation_id, who, json_object())}


@bp.post("/conversations/<id:conversation_id>/assign")
def assign(conversation_id: int) -> dict[str, Any]:
    """Assign to the calling agent, or (admins) to `agent_id`."""
    who = agent()
    agent_id = json_object().get("agent_id") if request.content_length else None
    return {"conversation": conversations.assign_conversation(conversation_id, who, agent_id)}


@bp.post("/conversations/<id:conversation_id>/close")
def close(conversation_id: int) -> dict[str, Any]:
    """Close the conversation (the visitor may reopen it by writing again)."""
    return {"conversation": conversations.close_conversation(conversation_id, agent())}


@bp.post("/conversations/<id:conversation_id>/rating")
def rate(conversation_id: int) -> tuple[dict[str, Any], int]:
    """The visitor rates the closed conversation 1-5 (once per closing)."""
    who = caller()
    fields = json_object()
    rated = ratings.rate_conversation(
        conversation_id, who, fields.get("score"), fields.get("comment")
    )
    return {"conversation": rated}, 201


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None

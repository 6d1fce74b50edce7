"""Events for integrations: written in the transaction of the change that caused them, so
a crash after the commit loses none, and a change rolled back sends none.

The body is fixed when the event is written (its public id, type, time and the entity as
the API shows it to agents) and sent as is by every delivery (webhooks_out.py). Nothing
is written while no endpoint is enabled: each process keeps that answer for
DEVTONE_WEBHOOK_ENDPOINTS_CHECK_EVERY seconds, so a post costs no extra query for it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy import Connection, exists, insert, select

from devtone.domain.log_writer import REOPENED
from devtone.domain.models import WebhookEndpoint, WebhookEvent, isoformat, utcnow
from devtone.domain.shapes import WrittenJson
from devtone.extensions import db

TYPES = (
    "conversation.created",
    "conversation.assigned",
    "conversation.closed",
    "conversation.reopened",
    "message.created",
    "rating.created",
)
EXTENSION_KEY = "devtone.webhook_endpoints"
_INSERT = insert(WebhookEvent.__table__)


class EndpointsKnown:
    """Whether any endpoint is enabled, as this process last read it (at most `seconds`
    ago); `refresh()` reads it now (the process that changes endpoints calls it)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.enabled = False
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        if time.monotonic() - self._read_at >= self.seconds:
            self.refresh(only_if_stale=True)
        return self.enabled

    def refresh(self, only_if_stale: bool = False) -> bool:
        """Read whether an endpoint is enabled, now (or, `only_if_stale`, unless another
        caller read it while this one waited for the lock: one query, not one per post);
        return it."""
        with self._lock:
            if only_if_stale and time.monotonic() - self._read_at < self.seconds:
                return self.enabled
            query = select(exists().where(WebhookEndpoint.disabled_at.is_(None)))
            with db.engine.connect() as connection:
                self.enabled = bool(connection.execute(query).scalar())
            self._read_at = time.monotonic()
        return self.enabled


def endpoints_known() -> EndpointsKnown:
    """The app's cached answer to "is any endpoint enabled?"."""
    app = current_app._get_current_object()
    known = app.extensions.get(EXTENSION_KEY)
    if known is None:
        known = app.extensions.setdefault(
            EXTENSION_KEY, EndpointsKnown(app.config["WEBHOOK_ENDPOINTS_CHECK_EVERY"])
        )
    return known


def wanted() -> bool:
    """Whether changes are to write events (an endpoint is enabled, as far as this process
    knows): read outside the change's transaction, never more than once per window."""
    return endpoints_known()()


def record(
    connection: Connection,
    type_: str,
    conversation_id: int | None,
    data: dict[str, Any],
    note: bool = False,
) -> str:
    """Write one event on the change's `connection` (its transaction); return its id."""
    public_id = f"evt_{secrets.token_hex(12)}"
    now = utcnow()
    body = {"id": public_id, "type": type_, "created_at": isoformat(now), "data": data}
    connection.execute(
        _INSERT,
        {
            "public_id": public_id,
            "type": type_,
            "conversation_id": conversation_id,
            "note": note,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            "created_at": now,
        },
    )
    return public_id


def record_written(connection: Connection, shaped: WrittenJson) -> None:
    """The events of one write of a conversation's log, from its new entries: a text
    message or a note is message.created (a note only for endpoints that ask for notes);
    an agent joining is conversation.assigned; a closing and a reopening say so. Label
    changes and marks are no event."""
    conversation = shaped.conversation
    for entry in shaped.entries:
        kind = entry["kind"]
        if kind in ("text", "note"):
            record(connection, "message.created", entry["conversation_id"], entry, kind == "note")
        elif kind == "status":
            record(connection, _status_event(entry), conversation["id"], conversation)


def _status_event(entry: dict[str, Any]) -> str:
    if entry["status"] == "closed":
        return "conversation.closed"
    if entry["body"] == REOPENED:
        return "conversation.reopened"
    return "conversation.assigned"  # "<agent> joined the conversation."


def rating_data(conversation: Any) -> dict[str, Any]:
    """rating.created's entity: the rating of a conversation's closing, and who had it."""
    return {
        "conversation_id": conversation.id,
        "score": conversation.rating_score,
        "comment": conversation.rating_comment,
        "rated_at": isoformat(conversation.rated_at),
        "agent": (
            {"id": conversation.agent_id, "name": conversation.agent_name}
            if conversation.agent_id
            else None
        ),
    }

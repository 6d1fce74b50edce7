"""Announcing committed changes: the channel names and the publish, through the broker
`init_app` was given.

Publishing is best effort (at most once): the database is the truth, and readers repair
what they did not hear from it (DESIGN.md §1). The domain never imports the transport.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from flask import Flask, current_app

EXTENSION_KEY = "devtone.announce"

#: A head's last message carries at most this many characters of its text: more than the
#: dashboard ever shows (its list cuts at 80, a notification at 140), far less than a
#: message may hold (fields.BODY_MAX).
PREVIEW_CHARS = 280


class Publisher(Protocol):
    """What announcing needs of a broker."""

    def publish(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Hand `item` to the channel's subscribers, and `head` to the dashboards'."""


def init_app(app: Flask, broker: Publisher) -> None:
    """Announce `app`'s changes through `broker`."""
    app.extensions[EXTENSION_KEY] = broker


def conversation_channel(conversation_id: int) -> str:
    """The broker channel on which a conversation's changes are announced."""
    return f"conversation:{conversation_id}"


def changes(
    conversation_id: int,
    conversation: dict[str, Any],
    entries: list[dict[str, Any]],
    marks_of: str | None = None,
    mentions: dict[str, int] | None = None,
) -> None:
    """Announce committed entries, each with the conversation after all of them, or (with
    no entry) the conversation's own change; `marks_of` names the side whose marks moved.
    The dashboard feed hears each change's head; `mentions` (notes.py) are for it alone,
    so they ride beside the conversation, never in it (the visitor's readers pass it on)."""
    also = {"mentions": mentions} if mentions else {}
    # One head per change: every entry carries the same conversation, and a dashboard
    # upserts a version once.
    head = {"conversation": preview(conversation), **also}
    if not entries:
        change = {"conversation": conversation, **also}
        if marks_of is not None:
            change["marks_of"] = marks_of  # one's own marks are no news to one's long-poll
        publish(conversation_id, change, head)
    for number, entry in enumerate(entries, 1):
        item = {"message": entry, "conversation": conversation, **also}
        publish(conversation_id, item, head if number == len(entries) else None)


def preview(conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation as a head carries it: its last message's text cut to PREVIEW_CHARS,
    runs of white space as one space (as the dashboard shows it)."""
    last = conversation.get("last_message")
    if not last or not isinstance(last.get("body"), str) or len(last["body"]) <= PREVIEW_CHARS:
        return conversation
    body = " ".join(last["body"].split())[:PREVIEW_CHARS]
    return {**conversation, "last_message": {**last, "body": body}}


def publish(conversation_id: int, item: dict[str, Any], head: dict[str, Any] | None = None) -> None:
    """Announce one committed change on the conversation's channel (and its head, if any,
    to the dashboards)."""
    item["committed_at"] = time.time()  # once per change: readers time commit → write
    current_app.extensions[EXTENSION_KEY].publish(conversation_channel(conversation_id), item, head)

"""What agents see at a glance: the conversation list and today's statistics.

A snapshot is every open conversation plus the most recently closed ones, each carrying
its `version`, and statistics the database computes (counts and a median in SQL, never
by walking rows in Python). Its etag changes whenever what it shows changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_

from devtone.domain import notes, ratings
from devtone.domain.models import Conversation, Message, utcnow
from devtone.domain.shapes import conversation_json
from devtone.extensions import db

#: Open conversations are all listed (a team's workload); closed ones only this many.
OPEN_MAX = 1000
RECENTLY_CLOSED = 50
#: "Typically replies in …" looks back this far: a week holds every weekday's load, and
#: a quiet morning (no reply yet today) still has something to say.
TYPICAL_REPLY_DAYS = 7


@dataclass(frozen=True)
class Snapshot:
    """The dashboard at one moment."""

    conversations: list[dict[str, Any]]
    stats: dict[str, Any]
    etag: str

    def as_json(self) -> dict[str, Any]:
        """The body of GET /api/dashboard/snapshot and of the SSE `snapshot` event."""
        return {"conversations": self.conversations, "stats": self.stats, "etag": self.etag}


#: The conversations agents see: those with a first entry. One started and left empty (an
#: API client that never wrote, a page closed before sending) is nobody's work.
LISTED = Conversation.last_seq > 0


def take_snapshot(now: datetime | None = None) -> Snapshot:
    """The open conversations (newest activity first), the recently closed, and the stats."""
    now = now or utcnow()
    try:
        recently_closed = (
            select(Conversation.id)
            .where(Conversation.status == "closed")
            .order_by(Conversation.closed_at.desc(), Conversation.id.desc())
            .limit(RECENTLY_CLOSED)
        )
        # One statement, so one consistent read: a conversation reopened or closed while
        # the snapshot is taken is in it once, as it was at that moment.
        rows = db.session.scalars(
            select(Conversation)
            .where(
                LISTED,
                or_(Conversation.status != "closed", Conversation.id.in_(recently_closed)),
            )
            .order_by(
                case((Conversation.status == "closed", 1), else_=0),  # open ones first
                Conversation.updated_at.desc(),
                Conversation.id.desc(),
            )
            .limit(OPEN_MAX + RECENTLY_CLOSED)
        ).all()
        last_texts = _last_texts(rows)
        listed = [_listed(row, last_texts.get(row.id)) for row in rows]
        figures = _stats(now)
    finally:
        db.session.close()
    return Snapshot(listed, figures, _etag(listed, figures))


def _listed(row: Conversation, last_text: Message | None) -> dict[str, Any]:
    """A listed conversation: its shape, and (agents see snapshots) its notes' mentions."""
    listed = conversation_json(row, last_text)
    mentions = notes.mentions_of(row.mentions)
    if mentions:
        listed["mentions"] = mentions
    return listed


def stats(now: datetime | None = None) -> dict[str, Any]:
    """Today's figures (the UTC day of `now`)."""
    try:
        return _stats(now or utcnow())
    finally:
        db.session.close()


def _stats(now: datetime) -> dict[str, Any]:
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    counts = db.session.execute(
        select(
            func.count().filter(Conversation.status == "waiting"),
            func.count().filter(Conversation.status == "active"),
            func.count().filter(
                and_(Conversation.status == "closed", Conversation.closed_at >= today)
            ),
        ).where(LISTED)
    ).one()
    messages_today = db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.created_at >= today, Message.kind == "text")
    )
    return {
        "day": today.date().isoformat(),
        "waiting": counts[0],
        "active": counts[1],
        "closed_today": counts[2],
        "messages_today": messages_today,
        "median_first_reply_seconds": _median_first_reply_seconds(today),
        "ratings": ratings.rating_stats(today, now),
    }


def typical_first_reply_seconds(now: datetime | None = None) -> float | None:
    """The median first reply over the last TYPICAL_REPLY_DAYS days; None before any."""
    since = (now or utcnow()) - timedelta(days=TYPICAL_REPLY_DAYS)
    try:
        return _median_first_reply_seconds(since)
    finally:
        db.session.close()


def _median_first_reply_seconds(since: datetime) -> float | None:
    """Median wait for a first agent reply among conversations first answered since `since`.

    Portable SQL (PostgreSQL and SQLite): rank the waits, keep the middle one or two
    (rank * 2 between n and n + 2), and average them.
    """
    ranked = (
        select(
            Conversation.first_reply_ms.label("ms"),
            func.row_number().over(order_by=Conversation.first_reply_ms).label("rank"),
            func.count().over().label("n"),
        )
        .where(Conversation.first_reply_at >= since)
        .subquery()
    )
    middle = db.session.scalar(
        select(func.avg(ranked.c.ms)).where(
            ranked.c.rank * 2 >= ranked.c.n, ranked.c.rank * 2 <= ranked.c.n + 2
        )
    )
    return None if middle is None else round(float(middle) / 1000, 3)


def _last_texts(rows: list[Conversation]) -> dict[int, Message]:
    """Each conversation's newest text entry, in one query by (conversation_id, seq)."""
    keys = [(row.id, row.last_text_seq) for row in rows if row.last_text_seq]
    if not keys:
        return {}
    found = db.session.scalars(
        select(Message).where(tuple_(Message.conversation_id, Message.seq).in_(keys))
    ).all()
    return {message.conversation_id: message for message in found}


def _etag(conversations: list[dict[str, Any]], figures: dict[str, Any]) -> str:
    # Versions, not whole shapes: every change to a conversation bumps its version.
    listed = [(c["id"], c["version"]) for c in conversations]
    digest = hashlib.sha256(json.dumps([listed, figures], sort_keys=True).encode())
    return digest.hexdigest()[:20]

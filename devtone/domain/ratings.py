"""Satisfaction ratings (CSAT): the visitor rates each closing of a conversation 1-5, once.

A rating is a change of the conversation outside its log, like a mark: it bumps the
version and is announced with the conversation after it, so every reader of every tier
(the agent's transcript, the dashboard's list) sees it. The conversation carries the
newest closing's rating; the `ratings` table keeps every closing's for the statistics.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from devtone.domain import announce, fields, visitors, webhook_events
from devtone.domain.models import Agent, Conversation, Message, Rating, utcnow
from devtone.domain.shapes import conversation_json, seen_by_visitor
from devtone.errors import BadRequest, Conflict, Forbidden, NotFound
from devtone.extensions import db

SCORES = range(1, 6)
COMMENT_MAX = 1000
#: The statistics' longer window.
WEEK_DAYS = 7


def clean_score(score: object) -> int:
    """A whole number from 1 to 5 (not a boolean), or BadRequest naming `score`."""
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise BadRequest("Rate from 1 to 5.", field="score", code="invalid_score")
    return score


def clean_comment(comment: object) -> str | None:
    """An optional comment: text of at most COMMENT_MAX characters; blank is none."""
    if comment is None or (isinstance(comment, str) and fields.is_blank(comment)):
        return None
    if not isinstance(comment, str) or not fields.is_storable(comment):
        raise BadRequest("The comment must be text.", field="comment", code="invalid_comment")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise BadRequest(
            "The comment is longer than {count} characters.",
            field="comment",
            code="comment_too_long",
            count=COMMENT_MAX,
        )
    return comment


def rate_conversation(
    conversation_id: int, caller: object, score: object, comment: object = None
) -> dict[str, Any]:
    """Store the visitor's rating of the conversation's current closing; return the
    conversation. Only its visitor rates; an open conversation, or a closing rated
    already, is a Conflict."""
    if not isinstance(caller, visitors.Visitor):
        raise Forbidden("Only the conversation's visitor can rate it.", code="visitors_only")
    score, comment = clean_score(score), clean_comment(comment)
    recording = webhook_events.wanted()  # before the lock: its read may take a query
    try:
        row = db.session.execute(_ROW, {"id": conversation_id}).first()
        if row is None:
            raise NotFound("No such conversation.")
        visitors.check_access(caller, conversation_id, row.visitor_token_hash, row.link_token_hash)
        rated = db.session.execute(
            _RATE,
            {
                "conversation_id": conversation_id,
                "new_score": score,
                "new_comment": comment,
                "new_now": utcnow(),
            },
        ).first()
        if rated is None:  # decided under the lock: the guard no longer held
            raise _refusal(db.session.execute(_ROW, {"id": conversation_id}).first())
        db.session.add(
            Rating(
                conversation_id=conversation_id,
                closed_at=rated.closed_at,
                agent_id=rated.agent_id,
                score=score,
                comment=comment,
                rated_at=rated.rated_at,
            )
        )
        if recording:
            webhook_events.record(
                db.session.connection(),
                "rating.created",
                conversation_id,
                webhook_events.rating_data(rated),
            )
        db.session.commit()
        shaped = conversation_json(rated, _last_text(rated))
    finally:
        db.session.close()
    announce.changes(conversation_id, shaped, [])
    return seen_by_visitor(shaped)  # the agents' labels stay theirs


def _refusal(row: Any) -> Conflict:
    if row.status != "closed":
        return Conflict(
            "The conversation is open; rate it once it is closed.", code="conversation_open"
        )
    return Conflict("This closing of the conversation is rated already.", code="already_rated")


def _last_text(row: Any) -> Any:
    if not row.last_text_seq:
        return None
    return db.session.execute(
        select(*Message.__table__.c).where(
            Message.conversation_id == row.id, Message.seq == row.last_text_seq
        )
    ).first()


def rating_stats(today: datetime, now: datetime) -> dict[str, Any]:
    """Average and count of the ratings given since `today` (the day's start) and in the
    last WEEK_DAYS days, and per agent over the week; run inside the caller's session."""
    week = now - timedelta(days=WEEK_DAYS)
    figures = db.session.execute(
        select(
            func.count().filter(Rating.rated_at >= today),
            func.avg(case((Rating.rated_at >= today, Rating.score))),
            func.count(),
            func.avg(Rating.score),
        ).where(Rating.rated_at >= week)
    ).one()
    agents = db.session.execute(
        select(Agent.id, Agent.name, func.count(), func.avg(Rating.score))
        .join(Agent, Agent.id == Rating.agent_id)
        .where(Rating.rated_at >= week)
        .group_by(Agent.id, Agent.name)
        .order_by(Agent.name, Agent.id)
    ).all()
    return {
        "today": _figure(figures[0], figures[1]),
        "week": _figure(figures[2], figures[3]),
        "agents": [
            {"agent_id": agent_id, "name": name, **_figure(count, average)}
            for agent_id, name, count, average in agents
        ],
    }


def _figure(count: int, average: object) -> dict[str, Any]:
    return {"count": count, "average": None if average is None else round(float(average), 2)}


_conversations = Conversation.__table__
_AGENT_NAME = (
    select(Agent.name).where(Agent.id == _conversations.c.agent_id).scalar_subquery()
).label("agent_name")
_ROW = select(*_conversations.c, _AGENT_NAME).where(_conversations.c.id == bindparam("id"))
# Never before the closing it rates (clocks of two hosts differ): rated_at >= closed_at
# is what makes a rating the current closing's.
_NOW = bindparam("new_now", type_=_conversations.c.closed_at.type)
_RATE = (
    update(_conversations)
    .where(
        and_(
            _conversations.c.id == bindparam("conversation_id"),
            _conversations.c.status == "closed",
            _conversations.c.closed_at.is_not(None),
            or_(
                _conversations.c.rated_at.is_(None),
                _conversations.c.rated_at < _conversations.c.closed_at,
            ),
        )
    )
    .values(
        rating_score=bindparam("new_score"),
        rating_comment=bindparam("new_comment"),
        rated_at=case((_conversations.c.closed_at > _NOW, _conversations.c.closed_at), else_=_NOW),
        version=_conversations.c.version + 1,
    )
    .returning(*_conversations.c, _AGENT_NAME)
)

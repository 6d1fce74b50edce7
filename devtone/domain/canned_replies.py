"""Canned replies: saved texts an agent inserts from the composer by their shortcut.

The team's replies (`shared`) are kept by administrators and seen by every agent; each
agent's own are seen and kept by that agent alone. A shortcut is unique within its
scope (the team's, or one agent's), compared without case.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from devtone.domain import fields
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import CannedReply, isoformat, utcnow
from devtone.errors import Conflict, Forbidden, Invalid, NotFound
from devtone.extensions import db

SHORTCUT_MAX = 40
TEXT_MAX = fields.BODY_MAX  # it becomes a message
#: An agent (or the team) keeps at most this many: the composer's list loads them all.
REPLIES_MAX = 500
TEAM = "team"
_SHORTCUT = re.compile(r"[^\s/]+")


def clean_shortcut(shortcut: object) -> str:
    """A shortcut: one word without spaces or '/', at most SHORTCUT_MAX characters,
    lower-cased; a leading '/' (as typed in the composer) is dropped."""
    if not isinstance(shortcut, str) or fields.is_blank(shortcut):
        raise Invalid("Give the reply a shortcut.", field="shortcut", code="blank")
    shortcut = shortcut.strip().removeprefix("/").lower()
    if len(shortcut) > SHORTCUT_MAX:
        raise Invalid(
            "The shortcut is longer than {count} characters.",
            field="shortcut",
            code="too_long",
            count=SHORTCUT_MAX,
        )
    if not _SHORTCUT.fullmatch(shortcut) or not fields.is_storable(shortcut):
        raise Invalid(
            "A shortcut is one word: no spaces or '/'.", field="shortcut", code="invalid_shortcut"
        )
    return shortcut


def clean_text(text: object) -> str:
    """The reply's text: what a message body may be (not blank, at most TEXT_MAX)."""
    try:
        return fields.clean_body(text)
    except Invalid as refused:
        raise Invalid(refused.template, field="text", code=refused.code, **refused.params) from None


def visible_replies(agent: AgentIdentity) -> list[dict[str, Any]]:
    """The team's replies and the agent's own, by shortcut (the team's first on a tie)."""
    try:
        rows = db.session.scalars(
            select(CannedReply)
            .where(or_(CannedReply.scope == TEAM, CannedReply.scope == _own(agent)))
            .order_by(CannedReply.shortcut, CannedReply.owner_id.is_not(None), CannedReply.id)
        ).all()
        return [_json(row, agent) for row in rows]
    finally:
        db.session.close()


def create_reply(agent: AgentIdentity, raw: dict[str, Any]) -> dict[str, Any]:
    """Save a new reply: the team's (administrators only) or the agent's own."""
    shared = _shared(raw.get("shared", False), agent)
    shortcut, text = clean_shortcut(raw.get("shortcut")), clean_text(raw.get("text"))
    scope = TEAM if shared else _own(agent)
    now = utcnow()
    row = CannedReply(
        owner_id=None if shared else agent.id,
        scope=scope,
        shortcut=shortcut,
        text=text,
        created_at=now,
        updated_at=now,
    )
    try:
        count = db.session.scalar(select(func.count()).where(CannedReply.scope == scope))
        if count >= REPLIES_MAX:
            raise Invalid(
                "There are {count} replies already; delete one first.",
                field="shortcut",
                code="too_many_replies",
                count=REPLIES_MAX,
            )
        db.session.add(row)
        _commit(shortcut)
        return _json(row, agent)
    finally:
        db.session.close()


def change_reply(agent: AgentIdentity, reply_id: int, raw: dict[str, Any]) -> dict[str, Any]:
    """Change a reply the agent may keep: its shortcut, text and (administrators) whether
    it is the team's. What is left out stays."""
    try:
        row = _kept_by(agent, reply_id)
        shared = _shared(raw.get("shared", row.scope == TEAM), agent)
        shortcut = clean_shortcut(raw["shortcut"]) if "shortcut" in raw else row.shortcut
        text = clean_text(raw["text"]) if "text" in raw else row.text
        row.scope = TEAM if shared else _own(agent)
        row.owner_id = None if shared else agent.id
        row.shortcut, row.text, row.updated_at = shortcut, text, utcnow()
        _commit(shortcut)
        return _json(row, agent)
    finally:
        db.session.close()


def delete_reply(agent: AgentIdentity, reply_id: int) -> None:
    """Delete a reply the agent may keep."""
    try:
        db.session.delete(_kept_by(agent, reply_id))
        db.session.commit()
    finally:
        db.session.close()


def _kept_by(agent: AgentIdentity, reply_id: int) -> CannedReply:
    """The reply, if the agent sees it (NotFound) and may change it (Forbidden)."""
    row = db.session.get(CannedReply, reply_id)
    if row is None or row.scope not in (TEAM, _own(agent)):
        # Another agent's own reply: as if it did not exist.
        raise NotFound("No such canned reply.")
    if row.scope == TEAM and not agent.is_admin:
        raise Forbidden("Only an administrator can change the team's replies.", code="admins_only")
    return row


def _shared(value: object, agent: AgentIdentity) -> bool:
    shared = fields.clean_flag(value, "shared")
    if shared and not agent.is_admin:
        raise Forbidden("Only an administrator can keep the team's replies.", code="admins_only")
    return shared


def _commit(shortcut: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "There is a reply with the shortcut /{shortcut} already.",
            field="shortcut",
            code="shortcut_taken",
            shortcut=shortcut,
        ) from None


def _own(agent: AgentIdentity) -> str:
    return f"agent:{agent.id}"


def _json(row: CannedReply, agent: AgentIdentity) -> dict[str, Any]:
    shared = row.scope == TEAM
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "text": row.text,
        "shared": shared,
        # Whether this agent may change it: the page shows the buttons it may use.
        "editable": agent.is_admin or not shared,
        "updated_at": isoformat(row.updated_at),
    }

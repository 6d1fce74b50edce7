"""Private notes: an agent's entries of a conversation's log that the visitor never sees,
and the @mentions in them that alert the agents they name.

A note is an entry like any other (its own `seq`, idempotent on `client_id`, published
to every reader), so agents get it on every tier; the visitor's readers skip it in SQL
(conversations.messages_after) and move their cursor past it, so no gap shows. It is not
a reply: no first-reply time, no unread, no e-mail, no status change (log_writer.note,
posted through conversations.post_message with kind "note").
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Row, select

from devtone.domain import log_writer
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import Agent
from devtone.errors import Forbidden


def require_agent(caller: object) -> AgentIdentity:
    """The caller, if an agent may write a note as them; Forbidden for a visitor."""
    if not isinstance(caller, AgentIdentity):
        raise Forbidden("Only agents can write notes.", code="notes_are_for_agents")
    return caller


def mentioned(body: str, agents: list[tuple[int, str]]) -> set[int]:
    """The ids of the agents `body` mentions: after each `@`, the longest agent name
    (case-insensitively) that ends there at a word's end, so "@Ana Maria" is Ana Maria,
    not Ana, when both work here."""
    folded = body.casefold()
    names = sorted(
        ((name.casefold(), agent_id) for agent_id, name in agents if name.strip()),
        key=lambda pair: -len(pair[0]),
    )
    found: set[int] = set()
    start = folded.find("@")
    while start != -1:
        rest = folded[start + 1 :]
        for name, agent_id in names:
            if rest.startswith(name) and not rest[len(name) : len(name) + 1].isalnum():
                found.add(agent_id)
                break
        start = folded.find("@", start + 1)
    return found


def mentions_of(stored: str | None) -> dict[str, int]:
    """A conversation's mentions as stored: {"<agent id>": seq of the newest note that
    mentioned them}; {} when none (or unreadable)."""
    try:
        value = json.loads(stored) if stored else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(key): seq for key, seq in value.items() if isinstance(seq, int)}


def mentions_in(body: str) -> Callable[[Row, int], str | None]:
    """What log_writer.note calls under the lock: the row's new mentions (JSON), or None
    when the note names no active agent."""

    def merged(row: Row, seq: int) -> str | None:
        if "@" not in body:
            return None
        query = select(Agent.id, Agent.name).where(Agent.active)
        agents = log_writer.connection().execute(query).all()
        ids = mentioned(body, [(agent_id, name) for agent_id, name in agents])
        if not ids:
            return None
        mentions = mentions_of(row.mentions)
        mentions.update({str(agent_id): seq for agent_id in sorted(ids)})
        return json.dumps(mentions, sort_keys=True)

    return merged

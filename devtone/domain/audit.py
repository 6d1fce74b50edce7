"""The audit log: what API tokens, exports, erasures and the CLI did, by whom and when.

Entries are written in the transaction of the act they record where there is one
(`add`, the caller commits), so an act and its entry stand or fall together; `record`
writes one on its own. Nothing secret goes in: a token is named by its id and name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from devtone.domain.models import AuditEntry, isoformat, utcnow
from devtone.extensions import db

KINDS = ("agent", "token", "cli", "system")
#: The most entries one page of the log holds.
PAGE_MAX = 200


@dataclass(frozen=True)
class Actor:
    """Who did it: an agent, an API token, the command line or devtone itself."""

    kind: str
    id: int | None
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")


#: The command line (`flask --app devtone …`): whoever runs it holds the server's keys.
CLI = Actor("cli", None, "command line")
#: devtone's own jobs (the retention rule).
SYSTEM = Actor("system", None, "devtone")


def add(actor: Actor, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
    """Add an entry to the session's transaction: it commits with the act it records."""
    db.session.add(
        AuditEntry(
            at=utcnow(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name[:80],
            action=action[:40],
            target=target[:300],
            detail=json.dumps(detail, ensure_ascii=False) if detail else None,
        )
    )


def record(
    actor: Actor, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> None:
    """Write one entry in a transaction of its own."""
    try:
        add(actor, action, target, detail)
        db.session.commit()
    finally:
        db.session.close()


def recent(limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
    """The newest entries first (those older than `before_id`, to page back), as JSON."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    try:
        return [_entry_json(entry) for entry in db.session.scalars(query)]
    finally:
        db.session.close()


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": isoformat(entry.at),
        "actor": {"kind": entry.actor_kind, "id": entry.actor_id, "name": entry.actor_name},
        "action": entry.action,
        "target": entry.target,
        "detail": json.loads(entry.detail) if entry.detail else None,
    }

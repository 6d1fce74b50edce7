"""Labels: admins define them (a name and a colour), agents put them on conversations.

A change of a conversation's labels is an entry of its log (kind "label", its body the
JSON `{"added": [...], "removed": [...]}`), written under the row lock with the new set
on the row, so every reader of the conversation and the dashboard hear of it the way they
hear of a message. Visitors never read it (models.AGENTS_ONLY_KINDS).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from devtone.domain import conversations, fields, log_writer
from devtone.domain.agents import AgentIdentity
from devtone.domain.log_writer import Written
from devtone.domain.models import ConversationLabel, Label, utcnow
from devtone.errors import Conflict, Forbidden, Invalid
from devtone.extensions import db

NAME_MAX = 40
#: Labels one conversation may carry (a list, not a tag cloud).
PER_CONVERSATION_MAX = 20
#: Colours that read in the light and the dark theme (tokens.css has each as
#: --label-<name> in both); or any "#rrggbb".
PALETTE = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def list_labels() -> list[dict[str, Any]]:
    """Every label, by name."""
    try:
        rows = db.session.scalars(select(Label).order_by(Label.name_key)).all()
        return [_label_json(row) for row in rows]
    finally:
        db.session.close()


def create_label(caller: AgentIdentity, name: object, colour: object) -> dict[str, Any]:
    """Define a label (admins only); Conflict when one has the name, whatever its case."""
    if not caller.is_admin:
        raise Forbidden("Only an administrator can create labels.", code="admins_only")
    name = clean_label_name(name)
    colour = _clean_colour(colour)
    label = Label(name=name, name_key=name.casefold(), colour=colour, created_at=utcnow())
    try:
        db.session.add(label)
        db.session.commit()
        return _label_json(label)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "A label has this name already.", field="name", code="label_exists"
        ) from None
    finally:
        db.session.close()


def set_conversation_labels(
    conversation_id: int, caller: AgentIdentity, names: object
) -> dict[str, Any]:
    """Give the conversation exactly the labels `names`; log what was added and removed.

    Invalid, and nothing changes, when a name is not a label; the same set again changes
    nothing and logs nothing.
    """
    wanted = _known(_clean_names(names))
    return conversations.write(conversation_id, _relabel, caller, wanted)[0].conversation


def clean_label_name(name: object, field: str = "name") -> str:
    """A label's name: one line of text, not blank, at most NAME_MAX characters."""
    name = fields.clean_name(name, field)
    # Its key is the casefolded name, which may be longer ("ß" folds to "ss"): both fit.
    if len(name.casefold()) > NAME_MAX:
        raise Invalid(
            "The name is longer than {count} characters.",
            field=field,
            code="too_long",
            count=NAME_MAX,
        )
    return name


def _relabel(conversation_id: int, caller: AgentIdentity, wanted: dict[str, int]) -> Written:
    """The log write: under the lock, compare with the row's set and append the change."""
    current = log_writer.unchanged(conversation_id)
    before = set(json.loads(current.conversation.labels or "[]"))
    after = set(wanted)
    added = sorted(after - before, key=str.casefold)
    removed = sorted(before - after, key=str.casefold)
    if not added and not removed:
        return current
    names = sorted(after, key=str.casefold)
    entry = {
        "kind": "label",
        "sender": "agent",
        "author_name": caller.name,
        "agent_id": caller.id,
        "body": json.dumps({"added": added, "removed": removed}, ensure_ascii=False),
    }
    written = log_writer.append(
        conversation_id, entry, labels=json.dumps(names, ensure_ascii=False)
    )
    connection = log_writer.connection()
    connection.execute(
        delete(ConversationLabel).where(ConversationLabel.conversation_id == conversation_id)
    )
    if wanted:
        connection.execute(
            insert(ConversationLabel),
            [{"conversation_id": conversation_id, "label_id": i} for i in wanted.values()],
        )
    return written


def _clean_names(names: object) -> list[str]:
    if not isinstance(names, list):
        raise Invalid("labels must be a list of label names.", field="labels", code="required")
    if len(names) > PER_CONVERSATION_MAX:
        raise Invalid(
            "A conversation can carry at most {count} labels.",
            field="labels",
            code="too_many",
            count=PER_CONVERSATION_MAX,
        )
    return [clean_label_name(name, "labels") for name in names]


def _known(names: list[str]) -> dict[str, int]:
    """The labels named (any case), by their own name → id; Invalid for an unknown one."""
    keys = {name.casefold() for name in names}
    try:
        rows = db.session.execute(
            select(Label.name, Label.name_key, Label.id).where(Label.name_key.in_(keys))
        ).all()
    finally:
        db.session.close()
    found = {row.name_key: row for row in rows}
    for name in names:
        if name.casefold() not in found:
            raise Invalid(
                "There is no label named {name}.", field="labels", code="unknown_label", name=name
            )
    return {row.name: row.id for row in rows}


def _clean_colour(colour: object) -> str:
    if isinstance(colour, str) and (colour in PALETTE or _HEX.fullmatch(colour)):
        return colour.lower()
    raise Invalid(
        "Choose a colour of the palette or give one as #rrggbb.",
        field="colour",
        code="invalid_colour",
    )


def _label_json(label: Label) -> dict[str, Any]:
    return {"id": label.id, "name": label.name, "colour": label.colour}

"""The domain: conversations as ordered logs of entries, and what people do with them.

Every public function owns its transaction and ends it before returning, so a caller
that keeps running (an SSE stream) never holds a database connection between calls.
Results are plain JSON-ready dicts. Publishing happens after commit and is best effort:
the database is the truth; the broker only wakes readers up (DESIGN.md §1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from devtone import metrics
from devtone.domain import (
    announce,
    availability,
    fields,
    log_writer,
    notes,
    visitors,
    webhook_events,
)
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity, on_team_side
from devtone.domain.log_writer import Written
from devtone.domain.models import AGENTS_ONLY_KINDS, Conversation, Message, utcnow
from devtone.domain.shapes import (
    WrittenJson,
    conversation_json,
    message_json,
    seen_by_visitor,
    written_json,
)
from devtone.errors import Forbidden, Invalid, NotFound
from devtone.extensions import db

PAGE_MAX = 500
#: What a poster may ask for: a text message, or (agents) a private note.
POSTED_KINDS = ("text", "note")

#: Who calls the domain: a visitor (by token), a signed-in agent, or an API token (which
#: reads as the team does and posts as a bot).
Caller = visitors.Visitor | visitors.MailedVisitor | AgentIdentity | TokenIdentity


@dataclass(frozen=True)
class Page:
    """A slice of a conversation's log after a cursor."""

    messages: list[dict[str, Any]]
    cursor: int
    conversation: dict[str, Any]
    #: The other side's typing, when that is what answered a long-poll (never stored).
    typing: dict[str, Any] | None = None


def start_conversation(
    name: object,
    email: object = None,
    language: str | None = None,
    visitor_identity: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Open a conversation for a visitor; return it and the visitor's bearer token.

    Agents see it from its first message on: pages call this when that message is sent.
    While the team is away an e-mail address is required (availability.py).
    `language` is the visitor's page's ("en", "pt-BR"): e-mails to them are written in it.
    `visitor_identity` is a verified id only (identities.py checked its signature).
    """
    name = fields.clean_name(name)
    email = fields.clean_email(email)
    availability.require_contact(email)
    token, token_hash = visitors.issue_token()
    recording = webhook_events.wanted()
    now = utcnow()
    conversation = Conversation(
        visitor_name=name,
        visitor_email=email,
        visitor_token_hash=token_hash,
        status="waiting",
        last_seq=0,
        version=1,
        last_text_seq=0,
        visitor_messages=0,
        agent_read_messages=0,
        agent_read_seq=0,
        visitor_read_seq=0,
        agent_delivered_seq=0,
        visitor_delivered_seq=0,
        visitor_language=language,
        visitor_identity=visitor_identity,
        emailed_seq=0,
        created_at=now,
        updated_at=now,
    )
    try:
        db.session.add(conversation)
        if recording:
            db.session.flush()  # its id, for the event written in the same transaction
            webhook_events.record(
                db.session.connection(),
                "conversation.created",
                conversation.id,
                conversation_json(conversation, None),
            )
        db.session.commit()
        started = conversation_json(conversation, None)
    finally:
        db.session.close()
    # Not announced: a conversation reaches agents with its first message (an empty one
    # is no one's work yet; see snapshots.LISTED).
    return started, token


def get_conversation(conversation_id: int, caller: Caller) -> dict[str, Any]:
    """The conversation, for a caller allowed to see it."""
    try:
        return seen_by(caller, shape(load(conversation_id, caller)))
    finally:
        db.session.close()


def seen_by(caller: Caller, conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation as `caller` may read it: a visitor never gets the agents' labels.
    Every answer that hands a conversation to a caller goes through here."""
    return conversation if on_team_side(caller) else seen_by_visitor(conversation)


def authorize(conversation_id: int, caller: Caller) -> None:
    """Raise NotFound unless `caller` may read the conversation (a visitor with another
    conversation's token is told it does not exist)."""
    try:
        load(conversation_id, caller)
    finally:
        db.session.close()


# Built once: every long-poll that starts waiting runs it, and building a statement cost
# more CPU than running it.
_HEAD = select(
    Conversation.visitor_token_hash, Conversation.link_token_hash, Conversation.last_seq
).where(Conversation.id == bindparam("id"))


def authorized_head(conversation_id: int, caller: Caller) -> int:
    """The log's head (`last_seq`), for a caller allowed to read it: one single-row query.

    Raises NotFound like `authorize`.
    """
    try:
        database = db.session.connection()
        row = database.execute(_HEAD, {"id": conversation_id}).first()
        if row is None:
            raise NotFound("No such conversation.")
        visitors.check_access(
            caller, conversation_id, row.visitor_token_hash, row.link_token_hash, database
        )
    finally:
        db.session.close()
    return row.last_seq


def post_message(
    conversation_id: int,
    caller: Caller,
    body: object,
    client_id: object = None,
    kind: object = None,
) -> tuple[dict[str, Any], bool]:
    """Append a text message (or, `kind` "note", an agent's private note: notes.py);
    return it and whether it is new.

    Idempotent on `client_id`: posting the same one again returns the stored message.
    A visitor writing to a closed conversation reopens it; an agent answering a waiting
    one takes it. Agents cannot write to a closed conversation (but may note in it). An
    API token posts as a bot (sender "bot", the token's name): a reply that assigns nobody.
    """
    kind = fields.clean_choice(kind, "kind", POSTED_KINDS, default="text")
    if kind == "note":
        author = notes.require_agent(caller)
        body = fields.clean_body(body)
        client_id = fields.clean_client_id(client_id)
        mentions = notes.mentions_in(body)
        shaped, written = write(conversation_id, log_writer.note, author, body, client_id, mentions)
        return shaped.answer, written.changed
    body = fields.clean_body(body)
    client_id = fields.clean_client_id(client_id)
    shaped, written = write(conversation_id, log_writer.post, caller, body, client_id)
    if written.changed:
        metrics.MESSAGES_POSTED.inc()
    return shaped.answer, written.changed


def assign_conversation(
    conversation_id: int, caller: AgentIdentity, agent_id: object = None
) -> dict[str, Any]:
    """Give the conversation to `agent_id` (default: the caller); log who joined.

    Agents take waiting conversations or keep their own; admins assign anyone's to anyone.
    """
    target_id = caller.id if agent_id is None else fields.clean_id(agent_id, "agent_id")
    if target_id != caller.id and not caller.is_admin:
        raise Forbidden("Only an administrator can assign a conversation to someone else.")
    return write(conversation_id, log_writer.assign, caller, target_id)[0].conversation


def close_conversation(conversation_id: int, caller: Caller) -> dict[str, Any]:
    """Close the conversation, logging a status entry every reader will replay."""
    return seen_by(caller, write(conversation_id, log_writer.close, caller)[0].conversation)


def write(
    conversation_id: int, write_log: Callable[..., Written], *arguments: Any
) -> tuple[WrittenJson, Written]:
    """Run one write of the log (a `log_writer` function) in its own transaction.

    Commits what changed, rolls back what did not (a lock taken for nothing), shapes the
    rows (they outlive the transaction) and announces the news after the commit.
    """
    # Whatever the request read through the session gives its connection back first: a
    # write holds one pooled connection, never two. A request that made no session (a
    # visitor's post) is spared making one to close.
    if db.session.registry.has():
        db.session.close()
    recording = webhook_events.wanted()  # cached: no query per write
    shaped = None
    with log_writer.transaction() as connection:
        written = write_log(conversation_id, *arguments)
        if written.changed:
            if recording and written.entries:
                # Integrations' events commit with the change, or not at all.
                shaped = written_json(written)
                webhook_events.record_written(connection, shaped)
            connection.commit()
        else:
            connection.rollback()
    shaped = shaped or written_json(written)
    if written.changed:
        mentions = notes.mentions_of(written.conversation.mentions)
        announce.changes(
            conversation_id, shaped.conversation, shaped.entries, written.marks_of, mentions
        )
    return shaped, written


def messages_after(
    conversation_id: int,
    caller: Caller | None,
    after: int,
    limit: int = PAGE_MAX,
    visitor_view: bool | None = None,
) -> Page:
    """The entries with seq > `after`, oldest first, at most `limit` of them.

    `caller=None` is for a reader that authorised its caller when it opened; it says
    `visitor_view` (otherwise the caller's side does). The visitor's view skips the
    entries only agents read (notes, label changes) in SQL, and its cursor moves past
    them (up to the head read before the entries), so the visitor's next read starts
    after them and no gap ever shows; nor does it carry the conversation's labels.
    """
    if after < 0:
        raise Invalid("The cursor must be zero or more.", field="after")
    limit = max(1, min(limit, PAGE_MAX))
    if visitor_view is None:
        visitor_view = caller is not None and not on_team_side(caller)
    try:
        conversation = (
            load(conversation_id, caller) if caller is not None else _get_or_404(conversation_id)
        )
        # Read before the entries: every entry up to this head is committed (seq is taken
        # under the row's lock), so a cursor moved up to it skips only what was read.
        head = conversation.last_seq
        query = select(Message).where(
            Message.conversation_id == conversation_id, Message.seq > after
        )
        if visitor_view:
            query = query.where(Message.kind.not_in(AGENTS_ONLY_KINDS))
        rows = db.session.scalars(query.order_by(Message.seq).limit(limit)).all()
        messages = [message_json(row) for row in rows]
        cursor = messages[-1]["seq"] if messages else after
        if not visitor_view:
            return Page(messages, cursor, shape(conversation))
        if len(messages) < limit:
            cursor = max(cursor, head)
        return Page(messages, cursor, seen_by_visitor(shape(conversation)))
    finally:
        db.session.close()


def heads(conversation_ids: set[int]) -> dict[int, int]:
    """`last_seq` of each existing conversation in `conversation_ids`, in one query."""
    if not conversation_ids:
        return {}
    try:
        rows = db.session.execute(
            select(Conversation.id, Conversation.last_seq).where(
                Conversation.id.in_(conversation_ids)
            )
        ).all()
        return dict(rows)
    finally:
        db.session.close()


# -- loading --------------------------------------------------------------------------


def shape(conversation: Conversation) -> dict[str, Any]:
    """The loaded conversation's JSON, reading its newest text entry by (id, seq)."""
    last_text = None
    if conversation.last_text_seq:
        last_text = db.session.scalar(
            select(Message).where(
                Message.conversation_id == conversation.id,
                Message.seq == conversation.last_text_seq,
            )
        )
    return conversation_json(conversation, last_text)


def load(conversation_id: int, caller: Caller) -> Conversation:
    """The conversation, in the session, for a caller allowed to see it (NotFound
    otherwise)."""
    conversation = _get_or_404(conversation_id)
    visitors.check_access(
        caller, conversation_id, conversation.visitor_token_hash, conversation.link_token_hash
    )
    return conversation


def _get_or_404(conversation_id: int) -> Conversation:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation

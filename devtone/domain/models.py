"""Agent, Conversation and Message: a conversation is an ordered log of messages by `seq`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from devtone.extensions import db

STATUSES = ("waiting", "active", "closed")
KINDS = ("text", "status")
SENDERS = ("visitor", "agent", "system")
ROLES = ("agent", "admin")


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; devtone stores UTC only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the HTTP contract says."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Agent(db.Model):
    """Someone who answers customers from the dashboard; admins also manage agents."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored normalised (lower-case), so sign-in is case-insensitive and unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentSession(db.Model):
    """One signed-in browser of an agent: the session cookie names it, and it lasts until
    the agent signs out there (or everywhere), or is deactivated. A copied cookie dies
    with it."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE", name="fk_agent_sessions_agent_id"), index=True
    )
    # sha256 of the session's token: what the database holds cannot sign anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The browser, as it named itself at sign-in, for the agent's list of sessions.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(db.Model):
    """One customer's conversation; `last_seq` is the log's head and its row lock.

    The counters below are kept in the same UPDATE that takes the lock, so the
    conversation's shape (unread, last message) never needs a COUNT over its log.
    """

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    visitor_name: Mapped[str] = mapped_column(String(80))
    visitor_email: Mapped[str | None] = mapped_column(String(254))
    # sha256 of the visitor's bearer token; the token itself is never stored.
    visitor_token_hash: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", name="fk_conversations_agent_id")
    )
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every change (log entries and read marks): the dashboard's upsert order.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # seq of the newest text entry (0: none yet), for the list's preview.
    last_text_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Visitor text entries so far, and how many of them the agent side had read at its
    # read mark: unread = visitor_messages - agent_read_messages.
    visitor_messages: Mapped[int] = mapped_column(Integer, default=0)
    agent_read_messages: Mapped[int] = mapped_column(Integer, default=0)
    # Highest seq the agent side has read ("Seen" for the visitor), and the visitor's.
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    visitor_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an agent first wrote, and how long the customer had waited for it.
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reply_ms: Mapped[int | None] = mapped_column(Integer)

    agent: Mapped[Agent | None] = relationship(lazy="joined")

    @property
    def agent_name(self) -> str | None:
        """The assigned agent's name (rows returned under the lock carry it as a column)."""
        return self.agent.name if self.agent is not None else None

    __table_args__ = (
        Index("ix_conversations_status_updated", "status", "updated_at"),
        Index("ix_conversations_closed_at", "closed_at"),
        Index("ix_conversations_first_reply_at", "first_reply_at"),
    )


class Message(db.Model):
    """One entry of a conversation's log: a text message or a status change."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    sender: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    # For kind == "status": the conversation's status after this entry.
    status: Mapped[str | None] = mapped_column(String(16))
    # The poster's idempotency key (a UUID it made); NULL for entries the server writes.
    # Unique per sender: one side's key never answers for the other's message.
    client_id: Mapped[str | None] = mapped_column(String(64))
    # The agent who wrote a message of sender "agent" (NULL for the others).
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", name="fk_messages_agent_id")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # Readers walk the log by (conversation_id, seq); the unique index is both the
        # gapless-log guard and the cursor read's access path.
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint(
            "conversation_id",
            "sender",
            "client_id",
            name="uq_messages_conversation_sender_client_id",
        ),
        # "Messages today" counts by time across every conversation.
        Index("ix_messages_created_at", "created_at"),
    )

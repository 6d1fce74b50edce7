"""Agent, Conversation and Message (a conversation is an ordered log of messages by `seq`),
and the deployment's office hours; the outboxes of e-mails and webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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
KINDS = ("text", "status", "note", "label")
#: Entries of the log only agents read (private notes, label changes): the visitor's
#: view of the log skips them (their cursor moves past them without a gap).
AGENTS_ONLY_KINDS = ("note", "label")
#: "bot": a message an API token with the messages:write scope posted, under its name.
SENDERS = ("visitor", "agent", "bot", "system")
#: Senders of replies: what the visitor side counts as the team's answer (unseen badge,
#: e-mailed replies). A bot's message travels like an agent's.
REPLY_SENDERS = ("agent", "bot")
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
    # Presence (agent_presence.py): when a dashboard of theirs last said it is open, when
    # they last did something in it, and "away" as they set it by hand.
    present_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    away: Mapped[bool] = mapped_column(Boolean, default=False)


class OfficeHours(db.Model):
    """The deployment's office hours (one row, id 1; none: never set, always open).

    `days` is JSON: weekday ("mon" … "sun") → {"open": "HH:MM", "close": "HH:MM"} or
    null (closed); `holidays` a JSON list of ISO dates; both read in `time_zone`.
    """

    __tablename__ = "office_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    days: Mapped[str] = mapped_column(Text, default="{}")
    holidays: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class AgentAlerts(db.Model):
    """How the dashboard gets one agent's attention when a visitor writes; no row means
    every alert on and quiet mode off (see domain/alerts.py)."""

    __tablename__ = "agent_alerts"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE", name="fk_agent_alerts_agent_id"),
        primary_key=True,
    )
    sound: Mapped[bool] = mapped_column(Boolean, default=True)
    desktop: Mapped[bool] = mapped_column(Boolean, default=True)
    # The tab title's count and the favicon's badge.
    badge: Mapped[bool] = mapped_column(Boolean, default=True)
    # Quiet: no sound and no desktop notification, whatever the two above say.
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordReset(db.Model):
    """A one-time link that lets its holder set an agent's password: it works once, until
    `expires_at`, and only while it is the agent's newest (a newer one voids it)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE", name="fk_password_resets_agent_id"), index=True
    )
    # sha256 of the link's token: what the database holds cannot reset anything.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it set a password; or when it was voided (a newer link, or another one used).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    # Bumped by every change (log entries and marks): the dashboard's upsert order.
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
    # Highest seq each side's client has received ("Delivered"); never below its read mark.
    agent_delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    visitor_delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an agent first wrote, and how long the customer had waited for it.
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 64 bits: a 32-bit column overflows at a first reply after 24.8 days.
    first_reply_ms: Mapped[int | None] = mapped_column(BigInteger)
    # The visitor's language when they started ("en", "pt-BR"): e-mails are written in it.
    visitor_language: Mapped[str | None] = mapped_column(String(16))
    # Agent replies up to this seq were e-mailed (or never will be): never one twice.
    emailed_seq: Mapped[int] = mapped_column(Integer, default=0)
    # When the visitor unsubscribed from this conversation's e-mails.
    email_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # sha256 of the token of the browser that last reopened it from an e-mailed link.
    link_token_hash: Mapped[str | None] = mapped_column(String(64))
    # Its labels' names, a sorted JSON list, written under the row lock with the entry
    # that changed them: every shape of the conversation carries them without a join.
    # `conversation_labels` holds the same set for the queries that filter by label.
    labels: Mapped[str] = mapped_column(Text, default="[]")
    # The agents its private notes mentioned, as JSON {"<agent id>": seq of the newest note
    # that did}: their dashboards alert them (notes.py). Never in the visitor's view.
    mentions: Mapped[str | None] = mapped_column(Text)
    # The visitor's rating of the newest closing (ratings.py); it is that closing's only
    # while rated_at >= closed_at, so a reopened conversation can be rated again.
    rating_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The visitor's id on the site that embeds the chat, once its signature was verified
    # (domain/identities.py): their conversations on every device and browser share it.
    # Never set from an unsigned or wrongly signed id.
    visitor_identity: Mapped[str | None] = mapped_column(String(255), index=True)
    # When its visitor's data was erased (erasure.py): an anonymous shell since, which no
    # visitor token, link or e-mailed reply opens, and which retention passes over.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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


class VisitorToken(db.Model):
    """One more browser's token for a conversation: a verified visitor who came back on
    another device (domain/identities.py). Read only when a token matches neither hash
    on the conversation's row, so the first browser's requests never query it."""

    __tablename__ = "visitor_tokens"

    # sha256 of the token, as on the conversation's row; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey(
            "conversations.id", ondelete="CASCADE", name="fk_visitor_tokens_conversation_id"
        ),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Label(db.Model):
    """A label admins define (name, colour) and agents put on conversations."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    # The name case-folded: "VIP" and "vip" are one label.
    name_key: Mapped[str] = mapped_column(String(40), unique=True)
    # A palette name ("teal") or "#rrggbb" (domain/labels.py).
    colour: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationLabel(db.Model):
    """A label on a conversation (the set `Conversation.labels` names)."""

    __tablename__ = "conversation_labels"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey(
            "conversations.id", ondelete="CASCADE", name="fk_conversation_labels_conversation_id"
        ),
        primary_key=True,
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE", name="fk_conversation_labels_label_id"),
        primary_key=True,
    )

    # Search filters by label: from the label to its conversations.
    __table_args__ = (Index("ix_conversation_labels_label_id", "label_id"),)


class Message(db.Model):
    """One entry of a conversation's log: a text message, a status change, an agent's
    private note or a label change (kinds "note" and "label": the visitor's view of the
    log skips them)."""

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
    # A file sent as this message: JSON {id, name, size, content_type} (attachments.py),
    # kept on the entry itself so every reader shapes it without a join.
    attachment: Mapped[str | None] = mapped_column(Text)

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


class Attachment(db.Model):
    """A file sent in a conversation: its bytes live in the file store under
    `<conversation_id>/<id>`, its message in the log carries the same id."""

    __tablename__ = "attachments"

    # Random (secrets.token_urlsafe): never a count of the files a deployment holds.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE", name="fk_attachments_conversation_id"),
        index=True,
    )
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    # Found from the bytes, never from the name or the uploader's word.
    content_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(db.Model):
    """A visitor's satisfaction rating (1-5) of one closing of a conversation, kept for the
    statistics after the conversation is reopened and rated again."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE", name="fk_ratings_conversation_id")
    )
    # The closing rated (the conversation's closed_at then): one rating per closing.
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who had the conversation when it closed: the per-agent statistics.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", name="fk_ratings_agent_id")
    )
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "closed_at", name="uq_ratings_closing"),
        Index("ix_ratings_rated_at", "rated_at"),
    )


class CannedReply(db.Model):
    """A saved reply an agent inserts from the composer: the team's (scope "team", kept by
    admins) or one agent's own (scope "agent:<id>")."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL for the team's; an agent's own go with them.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE", name="fk_canned_replies_owner_id")
    )
    # "team" or "agent:<id>": a shortcut is unique within its scope (NULLs never clash).
    scope: Mapped[str] = mapped_column(String(80))
    shortcut: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("scope", "shortcut", name="uq_canned_replies_scope_shortcut"),
    )


class OutgoingMail(db.Model):
    """An e-mail to a visitor, queued in the transaction that decided it and sent by the
    one elected sender: the agent replies with `after_seq` < seq <= `through_seq` (kind
    "replies"), or the whole conversation (kind "transcript"). Written when it is sent, so
    the link it carries is never stored."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE", name="fk_outgoing_mail_conversation_id")
    )
    kind: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    after_seq: Mapped[int] = mapped_column(Integer)
    through_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was given up: refused for good (a 5xx), unsubscribed, seen, or too old.
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_outgoing_mail_due", "sent_at", "given_up_at", "next_attempt_at"),)


class Lease(db.Model):
    """A job one process at a time may do (the mail sender): held by `holder` until
    `expires_at`, renewed while it works, taken over once it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):
    """One thing done through a credential that acts for the team (an API token, an admin's
    export or erasure, the CLI): who, what, on what, when. Never a credential itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "agent", "token", "cli" or "system" (the retention job), with the agent's or the
    # token's id; the name as it was then, so the entry still reads after a deletion.
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(80))
    # A dotted verb ("visitor.export", "token.create", "api.call"), what it acted on
    # ("conversation:12", "email:…", "GET /api/conversations"), and a small JSON detail.
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class WebhookEndpoint(db.Model):
    """An integration's URL that receives the events it asked for (webhooks.py), signed
    with its `secret` (kept to sign, shown to the admin once). Disabled, with the reason,
    after failing DEVTONE_WEBHOOK_GIVE_UP_AFTER; a redelivery enables it again."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    # The event types it receives, a sorted JSON list.
    events: Mapped[str] = mapped_column(Text)
    # Whether agents' private notes reach it as message.created.
    include_notes: Mapped[bool] = mapped_column(Boolean, default=False)
    secret: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # The first failure since its last success: 24 h of it disables the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEvent(db.Model):
    """Something integrations hear of, written in the transaction of the change that
    caused it (webhook_events.py): its public id and body are fixed at once, so every
    delivery of it, a redelivery too, carries the same bytes. `fanned_out_at` is set
    when the sender made its deliveries (one per endpoint that wanted it)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE", name="fk_webhook_events_conversation_id")
    )
    # A private note: only endpoints with include_notes receive it.
    note: Mapped[bool] = mapped_column(Boolean, default=False)
    # The JSON body exactly as sent: {"id", "type", "created_at", "data"}.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_events_fanned_out_at", "fanned_out_at"),
        # Erasure deletes a conversation's events.
        Index("ix_webhook_events_conversation_id", "conversation_id"),
    )


class WebhookDelivery(db.Model):
    """One event to one endpoint: tried until the endpoint answers 2xx, with a growing
    wait, in event order per conversation (a later event of a conversation waits while an
    earlier one to the same endpoint is undelivered); given up 24 h after the event."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey(
            "webhook_endpoints.id", ondelete="CASCADE", name="fk_webhook_deliveries_endpoint_id"
        )
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE", name="fk_webhook_deliveries_event_id")
    )
    # The event's, copied: the order rule compares deliveries of one conversation.
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The receiver's HTTP status of the last try (None: no answer), and what went wrong.
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "delivered_at", "given_up_at", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "conversation_id", "event_id"),
        # Deleting an event (pruning, erasure) cascades to its deliveries: found by event.
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )


class ApiToken(db.Model):
    """A credential an admin made for an integration: it acts for the team within its
    scopes (domain/api_tokens.py) until revoked. Only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Who the token is: the author name of a bot's messages, the audit log's actor.
    name: Mapped[str] = mapped_column(String(80))
    # A sorted JSON list of scopes ("conversations:read", "messages:write", …).
    scopes: Mapped[str] = mapped_column(Text)
    # sha256 of the token: what the database holds cannot call the API.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters (not secret: too short to guess the rest from), so an
    # admin can tell which of their tokens a list row is.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", name="fk_api_tokens_created_by")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most about once a minute per token, not on every call.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

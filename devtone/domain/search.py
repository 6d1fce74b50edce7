"""Search across conversations, for agents: what people wrote (messages and notes), the
visitor's name and e-mail, narrowed by label, status, agent and dates; ranked and paged.

The words are matched by each engine's full-text index (search_index.py): FTS5 ranked by
bm25 on SQLite, the tsvector column ranked by ts_rank_cd on PostgreSQL. A conversation
whose visitor's name or e-mail matches comes first. The snippet is the matching text cut
around its first hit, as parts `{"text", "hit"}`: pages render the hits as marks without
ever reading text as HTML.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    Select,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    tuple_,
    union_all,
)

from devtone.domain import fields
from devtone.domain.models import STATUSES, Conversation, ConversationLabel, Label, Message
from devtone.domain.search_index import DEFAULT_LANGUAGE, SEARCHED_KINDS
from devtone.domain.shapes import conversation_json, message_json
from devtone.domain.snapshots import LISTED
from devtone.errors import BadRequest, Invalid
from devtone.extensions import db

PAGE_SIZE = 20
QUERY_MAX = 200
#: Words of a query that are searched (the rest are ignored).
TERMS_MAX = 8
#: Characters of context a snippet keeps before its first hit, and in all.
SNIPPET_BEFORE = 60
SNIPPET_LENGTH = 200
#: A name or e-mail match ranks above any message (bm25 and -ts_rank_cd are above this).
_NAME_RANK = -1.0e6
_WORD = re.compile(r"\w+")
#: Names and addresses are not stemmed, and neither is what one has half typed.
_SIMPLE = literal_column("'simple'::regconfig")


def search(
    q: object = "",
    label: object = None,
    status: object = None,
    agent_id: int | None = None,
    since: object = None,
    until: object = None,
    page: int = 1,
) -> dict[str, Any]:
    """One page of results, best first, and the next page's number (None: the last).

    `since` and `until` are ISO dates (a whole UTC day; `until` includes it) or times
    with a zone; BadRequest names the one that is not.
    """
    terms = _terms(q)
    # Names and addresses are matched as typed ("ana@exemplo.com"), not word by word.
    phrase = q.strip().casefold() if isinstance(q, str) else ""
    status = _clean_status(status)
    start, end = _moment(since, "from", end=False), _moment(until, "to", end=True)
    narrow = {"label": _text(label), "status": status, "agent_id": agent_id}
    try:
        if terms:
            found = _ranked(terms, phrase, narrow, start, end, page)
        else:
            found = _latest(narrow, start, end, page)
        more = len(found) > PAGE_SIZE
        results = _results(found[:PAGE_SIZE], terms)
    finally:
        db.session.close()
    return {"results": results, "next_page": page + 1 if more else None}


def snippet(text: str, terms: list[str]) -> list[dict[str, Any]]:
    """`text` cut around its first hit, as parts; a word is a hit when it starts with a
    term, or a stem of it does (PostgreSQL matches "reembolsos" for "reembolso")."""
    keys = [_fold(term) for term in terms]
    spans = [
        (found.start(), found.end())
        for found in _WORD.finditer(text)
        if _is_hit(_fold(found.group()), keys)
    ]
    begin = 0
    if spans and spans[0][0] > SNIPPET_BEFORE:
        begin = text.rfind(" ", 0, spans[0][0] - SNIPPET_BEFORE) + 1
    end = min(len(text), begin + SNIPPET_LENGTH)
    parts: list[dict[str, Any]] = []
    if begin > 0:
        parts.append({"text": "…", "hit": False})
    at = begin
    for hit_start, hit_end in spans:
        if hit_start < begin or hit_end > end:
            continue
        if hit_start > at:
            parts.append({"text": text[at:hit_start], "hit": False})
        parts.append({"text": text[hit_start:hit_end], "hit": True})
        at = hit_end
    if at < end:
        parts.append({"text": text[at:end], "hit": False})
    if end < len(text):
        parts.append({"text": "…", "hit": False})
    return parts


# -- the queries ---------------------------------------------------------------------------

_messages = Message.__table__
_conversations = Conversation.__table__


def _ranked(
    terms: list[str], phrase: str, narrow: dict[str, Any], start: datetime | None,
    end: datetime | None, page: int,
) -> list[Any]:  # fmt: skip
    """(conversation_id, message_id or None) of the page's hits, best first."""
    engine = db.session.connection().dialect.name
    hits = _postgresql_hits(terms) if engine == "postgresql" else _sqlite_hits(terms)
    if start is not None:
        hits = hits.where(_messages.c.created_at >= start)
    if end is not None:
        hits = hits.where(_messages.c.created_at < end)
    names = select(
        _conversations.c.id.label("conversation_id"),
        null().label("message_id"),
        literal(_NAME_RANK).label("rank"),
    ).where(_visitor_matches(engine, phrase))
    names = _in_dates(names.where(LISTED), start, end)
    found = union_all(hits, names).subquery()
    query = select(found.c.conversation_id, found.c.message_id).order_by(
        found.c.rank, found.c.message_id.desc()
    )
    if narrow["status"] is not None or narrow["agent_id"] is not None:
        # A message's conversation is listed (it has an entry): join only to narrow.
        query = query.join(_conversations, _conversations.c.id == found.c.conversation_id)
    return _paged(_narrowed(query, narrow, found.c.conversation_id), page)


def _sqlite_hits(terms: list[str]) -> Select:
    fts = table("messages_fts", column("rowid"))
    # Each word quoted (FTS5's syntax never sees the user's), the last one a prefix.
    match = " ".join(f'"{term}"' for term in terms[:-1])
    last = terms[-1]
    match = f'{match} "{last}"*' if len(last) >= 3 else f'{match} "{last}"'
    return (
        select(
            _messages.c.conversation_id,
            _messages.c.id.label("message_id"),
            func.bm25(literal_column("messages_fts")).label("rank"),
        )
        .select_from(fts.join(_messages, _messages.c.id == fts.c.rowid))
        .where(literal_column("messages_fts").op("MATCH")(bindparam("match", match.strip())))
    )


def _postgresql_hits(terms: list[str]) -> Select:
    regconfig = _regconfig()
    # Every word stemmed as the index was; the last one also as typed and as a prefix
    # ("reemb" finds the stem "reembols"). A stem is never made a prefix: the stem of
    # "pedido" is "ped", and "ped:*" would find every "pedágio" and "pediu".
    words = [f"'{term}'" for term in terms]
    query = func.to_tsquery(regconfig, bindparam("tsquery", " & ".join(words)))
    last = terms[-1]
    if len(last) >= 3:
        typed = func.to_tsquery(_SIMPLE, bindparam("typed", f"'{last}':*"))
        if words[:-1]:
            stemmed = func.to_tsquery(regconfig, bindparam("stemmed", " & ".join(words[:-1])))
            typed = stemmed.op("&&")(typed)
        query = query.op("||")(typed)
    vector = literal_column("messages.search_vector")
    return select(
        _messages.c.conversation_id,
        _messages.c.id.label("message_id"),
        (-func.ts_rank_cd(vector, query)).label("rank"),
    ).where(_messages.c.kind.in_(SEARCHED_KINDS), vector.op("@@")(query))


def _visitor_matches(engine: str, phrase: str) -> Any:
    """The visitor's name or e-mail holds what was typed: on PostgreSQL, their words (an
    address is one) by the indexed `visitor_vector`; on SQLite, as a substring."""
    if engine == "postgresql":
        vector = literal_column("conversations.visitor_vector")
        return vector.op("@@")(func.plainto_tsquery(_SIMPLE, bindparam("phrase", phrase)))
    pattern = "%" + _escape_like(phrase) + "%"
    return or_(
        func.lower(_conversations.c.visitor_name).like(pattern, escape="\\"),
        func.lower(_conversations.c.visitor_email).like(pattern, escape="\\"),
    )


def _regconfig() -> Any:
    language = current_app.config.get("SEARCH_LANGUAGE", DEFAULT_LANGUAGE)
    # Validated by config.py: letters and "_" only.
    return literal_column(f"'{language}'::regconfig")


def _latest(
    narrow: dict[str, Any], start: datetime | None, end: datetime | None, page: int
) -> list[Any]:
    """No words: the conversations that fit, newest activity first."""
    query = select(
        _conversations.c.id.label("conversation_id"), null().label("message_id")
    ).order_by(_conversations.c.updated_at.desc(), _conversations.c.id.desc())
    query = _in_dates(query.where(LISTED), start, end)
    return _paged(_narrowed(query, narrow, _conversations.c.id), page)


def _in_dates(query: Select, start: datetime | None, end: datetime | None) -> Select:
    """Conversations that were going on at some time between `start` and `end`."""
    if start is not None:
        query = query.where(_conversations.c.updated_at >= start)
    if end is not None:
        query = query.where(_conversations.c.created_at < end)
    return query


def _narrowed(query: Select, narrow: dict[str, Any], conversation_id: Any) -> Select:
    """`query` narrowed by status and agent (it has the conversations' columns then) and
    by label (through `conversation_id`)."""
    if narrow["status"] is not None:
        query = query.where(_conversations.c.status == narrow["status"])
    if narrow["agent_id"] is not None:
        query = query.where(_conversations.c.agent_id == narrow["agent_id"])
    if narrow["label"]:
        labelled = (
            select(ConversationLabel.conversation_id)
            .join(Label, Label.id == ConversationLabel.label_id)
            .where(Label.name_key == narrow["label"].casefold())
        )
        query = query.where(conversation_id.in_(labelled))
    return query


def _paged(query: Select, page: int) -> list[Any]:
    # One more than a page: whether there is a next one.
    offset = (page - 1) * PAGE_SIZE
    return db.session.execute(query.limit(PAGE_SIZE + 1).offset(offset)).all()


def _results(found: list[Any], terms: list[str]) -> list[dict[str, Any]]:
    """Shape the hits: each conversation (with its newest text), the message, a snippet."""
    ids = {row.conversation_id for row in found}
    rows = db.session.scalars(select(Conversation).where(Conversation.id.in_(ids))).all()
    conversations = {row.id: row for row in rows}
    keys = [(row.id, row.last_text_seq) for row in rows if row.last_text_seq]
    last_texts = {}
    if keys:
        last_texts = {
            m.conversation_id: m
            for m in db.session.scalars(
                select(Message).where(tuple_(Message.conversation_id, Message.seq).in_(keys))
            )
        }
    message_ids = [row.message_id for row in found if row.message_id is not None]
    messages = {}
    if message_ids:
        messages = {
            m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(message_ids)))
        }
    results = []
    for row in found:
        conversation = conversations[row.conversation_id]
        result: dict[str, Any] = {
            "conversation": conversation_json(conversation, last_texts.get(conversation.id))
        }
        message = messages.get(row.message_id)
        if message is not None:
            result["message"] = message_json(message)
            result["snippet"] = snippet(message.body, terms)
        else:
            visitor = conversation.visitor_name
            if conversation.visitor_email:
                visitor = f"{visitor} <{conversation.visitor_email}>"
            result["snippet"] = snippet(visitor, terms)
        results.append(result)
    return results


# -- reading the query ---------------------------------------------------------------------


def _terms(q: object) -> list[str]:
    if q is None:
        return []
    if not isinstance(q, str) or not fields.is_storable(q):
        raise Invalid("The search is not text.", field="q", code="invalid_text")
    if len(q) > QUERY_MAX:
        raise Invalid(
            "The search is longer than {count} characters.", field="q", code="too_long",
            count=QUERY_MAX,
        )  # fmt: skip
    # Words with a letter or digit: "___" is no word to either index.
    words = [word.casefold() for word in _WORD.findall(q) if any(ch.isalnum() for ch in word)]
    return words[:TERMS_MAX]


def _clean_status(status: object) -> str | None:
    if status in (None, ""):
        return None
    if status not in STATUSES:
        raise Invalid("{field} must be waiting, active or closed.", field="status")
    return str(status)


def _moment(raw: object, field: str, end: bool) -> datetime | None:
    """An ISO date (its day's start; the next day's for the end of a range) or time."""
    if raw in (None, ""):
        return None
    text = str(raw)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    # OverflowError: the day after 9999-12-31, or 0001-01-01 in a zone east of UTC.
    except (ValueError, OverflowError):
        pass
    raise BadRequest(
        "{field} must be a date (2026-03-10) or a time with its zone.",
        field=field, code="invalid_date",
    )  # fmt: skip


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    if not fields.is_storable(value):
        raise Invalid("The label is not text.", field="label", code="invalid_text")
    return value.strip()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fold(word: str) -> str:
    """Case and accents away: "Ação" and "acao" are one word to a reader."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_hit(word: str, keys: list[str]) -> bool:
    return any(word.startswith(key) or (len(word) >= 4 and key.startswith(word)) for key in keys)

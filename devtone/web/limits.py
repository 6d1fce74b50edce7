"""Abuse limits at the edge, counted by Flask-Limiter (in Redis when REDIS_URL is set).

- conversation starts per client address: a decorator, checked before the view runs;
- messages per conversation and sender (a visitor, or each agent): counted before the
  post, keyed by who the caller says they are, so nobody uses up anyone else's allowance;
- open streams: slots of the realtime layer (realtime/stream_slots.py), not rates.

Every refusal is a 429 in the JSON error shape with `Retry-After` (web/errors.py).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many

from devtone import errors
from devtone.domain.agents import AgentIdentity
from devtone.domain.conversations import Caller
from devtone.domain.visitors import hash_token
from devtone.extensions import limiter

#: POST /api/conversations: DEVTONE_CONVERSATION_RATE_LIMIT per client address.
limit_conversation_starts = limiter.limit(
    lambda: current_app.config["CONVERSATION_RATE_LIMIT"],
    error_message="Too many conversations started from this address; try again later.",
)


@lru_cache(maxsize=8)
def _items(notation: str) -> list[RateLimitItem]:
    # Parsed once per setting, not on every message.
    return parse_many(notation)


def count_message(conversation_id: int, sender: Caller) -> None:
    """Count one message `sender` posts to the conversation; TooManyRequests past the limit.

    Each sender has an allowance of their own in each conversation: a visitor flooding it
    never stops the agent from answering, and a stranger's refused posts (another token)
    cannot use up the visitor's. Counted before the post, without a query: its key is who
    the caller says they are (the post then checks it).
    """
    _count("messages", "MESSAGE_RATE_LIMIT", conversation_id, sender, "too_many_messages")


def count_typing(conversation_id: int, sender: Caller) -> None:
    """Count one typing signal, as messages are counted; the throttle in the domain then
    decides which signals are news, and this bounds what a client may make it judge."""
    _count("typing", "TYPING_RATE_LIMIT", conversation_id, sender, "too_many_typing_signals")


def _count(what: str, setting: str, conversation_id: int, sender: Caller, code: str) -> None:
    strategy = limiter.limiter
    key = (
        current_app.config["RATELIMIT_KEY_PREFIX"],
        what,
        str(conversation_id),
        _sender_key(sender),
    )
    for item in _items(current_app.config[setting]):
        try:
            if strategy.hit(item, *key):
                continue
            reset_at, _ = strategy.get_window_stats(item, *key)
        except strategy.storage.base_exceptions:
            # The shared counter (Redis) is away: nothing is refused, or lost, for that.
            # Posting goes on as it does through a broker outage.
            current_app.logger.warning("%s rate limit not counted: its storage is down", what)
            return
        raise errors.TooManyRequests(
            f"Too many {what} in this conversation ({item}); try again later.",
            retry_after=max(1, math.ceil(reset_at - time.time())),
            code=code,
        )


def _sender_key(sender: Caller) -> str:
    if isinstance(sender, AgentIdentity):
        return f"agent:{sender.id}"
    # A prefix of the token's hash: never the token itself, in Redis or anywhere.
    return "visitor:" + hash_token(sender.token)[:16]

"""Abuse limits at the edge, counted by Flask-Limiter (in Redis when REDIS_URL is set).

- conversation starts per client address: a decorator, checked before the view runs;
- messages per conversation and sender (a visitor, or each agent): counted before the
  post, keyed by who the caller says they are, so nobody uses up anyone else's allowance;
- sign-in attempts: per client address and e-mail, per address across e-mails, and per
  account across addresses as a growing delay (never a lockout) after repeated failures;
- password resets: per client address (both forms), and reset e-mails per address asked for;
- calls with an API token: per token (web/token_access.py counts each before its view);
- open streams: slots of the realtime layer (realtime/stream_slots.py), not rates.

Every refusal is a 429 in the JSON error shape with `Retry-After` (web/errors.py).
"""

from __future__ import annotations

import hashlib
import math
import time
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse_many

from devtone import errors
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.domain.conversations import Caller
from devtone.domain.visitors import hash_token
from devtone.extensions import limiter
from devtone.realtime.breaker import Breaker

BREAKER_KEY = "devtone.message_counter"

#: POST /api/conversations: DEVTONE_CONVERSATION_RATE_LIMIT per client address.
limit_conversation_starts = limiter.limit(
    lambda: current_app.config["CONVERSATION_RATE_LIMIT"],
    error_message="Too many conversations started from this address; try again later.",
)


limit_identity_lookups = limiter.limit(
    lambda: current_app.config["IDENTITY_RATE_LIMIT"],
    error_message="Too many requests from this address; try again later.",
)


#: The hot endpoints: a message posted, the long-poll and the stream. None carries a route
#: limit (a decorator) and devtone sets no default one; their abuse limits are the
#: per-sender counters (`count_message`) and the stream slots they call themselves. Saying
#: so spares each of their requests Flask-Limiter's search for limits that are not there
#: (~60 µs a request, 5 % of a message's CPU in py-spy's profile, 2026-12).
NO_ROUTE_LIMITS = frozenset(
    {
        "api_conversations.post_message",
        "api_conversations.list_messages",
        "api_conversations.conversation_events",
    }
)


@limiter.request_filter
def _has_no_route_limits() -> bool:
    return request.endpoint in NO_ROUTE_LIMITS


#: POST /dashboard/login: DEVTONE_LOGIN_ADDRESS_RATE_LIMIT per client address, whatever the
#: e-mail (rotating addresses from one place is password spraying).
limit_sign_ins_per_address = limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"],
    methods=["POST"],
    key_func=get_remote_address,
    scope="sign-in-address",
)

#: POST /dashboard/forgot-password and /dashboard/new-password: DEVTONE_RESET_RATE_LIMIT per
#: client address, one count for both forms (each costs an e-mail or a scrypt hash).
limit_resets_per_address = limiter.shared_limit(
    lambda: current_app.config["RESET_RATE_LIMIT"],
    scope="password-reset-address",
    methods=["POST"],
    key_func=get_remote_address,
)


def _reset_email_key() -> str:
    # A digest, so no e-mail address sits in Redis; unknown addresses count alike, so a
    # refusal tells nobody who has an account.
    return hashlib.sha256(_normal(request.form.get("email", "")).encode()).hexdigest()[:24]


#: POST /dashboard/forgot-password: DEVTONE_RESET_EMAIL_RATE_LIMIT per e-mail address asked
#: for, from any client address: nobody can flood an agent's inbox with reset e-mails.
limit_reset_emails_per_account = limiter.limit(
    lambda: current_app.config["RESET_EMAIL_RATE_LIMIT"],
    methods=["POST"],
    key_func=_reset_email_key,
    scope="password-reset-email",
)

#: POST /api/conversations/<id>/transcript: DEVTONE_TRANSCRIPT_RATE_LIMIT per conversation,
#: whoever asks: the address was never verified, so nobody can flood someone's inbox. Only
#: a transcript sent counts: a stranger's refused tries must not use the visitor's up.
limit_transcripts = limiter.limit(
    lambda: current_app.config["TRANSCRIPT_RATE_LIMIT"],
    key_func=lambda: str(request.view_args.get("conversation_id")),
    deduct_when=lambda response: response.status_code < 400,
    scope="transcript",
    error_message="Too many transcripts asked for; try again later.",
)

#: Failed sign-ins an account may have (within FAILURE_WINDOW_S) before each attempt must
#: wait; the wait doubles with every further failure, up to MAX_DELAY_S.
FREE_FAILURES = 5
MAX_DELAY_S = 30
FAILURE_WINDOW_S = 15 * 60
#: A browser that signed in to an account before is never made to wait for that account:
#: an attacker's failures elsewhere must not keep its agent out (OWASP's "device cookie").
KNOWN_DEVICE_COOKIE = "devtone_known_agent"


def init_app(app: Flask) -> None:
    """Give `app` the breaker of its shared message and typing counters."""
    # One failure opens it: each costs a post up to DEVTONE_REDIS_TIMEOUT. Then one post
    # in 1 s, 2 s, 4 s … (30 s at most) tries the counter again; the others go uncounted.
    app.extensions[BREAKER_KEY] = Breaker(threshold=1, pause=1.0, pause_cap=30.0)


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
    refusal = errors.N_("You are sending messages too fast; try again in {seconds} s.")
    _count("messages", "MESSAGE_RATE_LIMIT", conversation_id, sender, "too_many_messages", refusal)


def count_typing(conversation_id: int, sender: Caller) -> None:
    """Count one typing signal, as messages are counted; the throttle in the domain then
    decides which signals are news, and this bounds what a client may make it judge."""
    refusal = errors.N_("Too many typing signals; try again in {seconds} s.")
    _count(
        "typing", "TYPING_RATE_LIMIT", conversation_id, sender, "too_many_typing_signals", refusal
    )


def count_marks(conversation_id: int, sender: Caller) -> None:
    """Count one move of the sender's marks (POST …/marks or …/read), as messages are
    counted: clients send at most one a second per tab, and each move is news to the
    other side's every page, so a client that sends more is refused."""
    refusal = errors.N_("Too many delivery and read updates; try again in {seconds} s.")
    _count("marks", "MARK_RATE_LIMIT", conversation_id, sender, "too_many_marks", refusal)


def count_token_call(token_id: int) -> None:
    """Count one call made with an API token; TooManyRequests past DEVTONE_TOKEN_RATE_LIMIT.

    Each token has its own allowance, whatever address it calls from."""
    refusal = errors.N_("Too many calls with this API token; try again in {seconds} s.")
    _hit("token-calls", "TOKEN_RATE_LIMIT", (str(token_id),), "too_many_token_calls", refusal)


def _count(
    what: str, setting: str, conversation_id: int, sender: Caller, code: str, refusal: str
) -> None:
    _hit(what, setting, (str(conversation_id), _sender_key(sender)), code, refusal)


def _hit(what: str, setting: str, parts: tuple[str, ...], code: str, refusal: str) -> None:
    breaker: Breaker = current_app.extensions[BREAKER_KEY]
    if not breaker.allows():
        return  # the shared counter failed a moment ago: no post waits on it meanwhile
    strategy = limiter.limiter
    key = (current_app.config["RATELIMIT_KEY_PREFIX"], what, *parts)
    for item in _items(current_app.config[setting]):
        try:
            if strategy.hit(item, *key):
                continue
            reset_at, _ = strategy.get_window_stats(item, *key)
        except strategy.storage.base_exceptions:
            # The shared counter (Redis) is away: nothing is refused, or lost, for that.
            # Posting goes on as it does through a broker outage.
            breaker.failed()
            current_app.logger.warning("%s rate limit not counted: its storage is down", what)
            return
        breaker.succeeded()
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise errors.TooManyRequests(
            refusal, retry_after=retry_after, code=code, seconds=retry_after
        )
    breaker.succeeded()


def _sender_key(sender: Caller) -> str:
    if isinstance(sender, AgentIdentity):
        return f"agent:{sender.id}"
    if isinstance(sender, TokenIdentity):
        return f"token:{sender.id}"
    # A prefix of the token's hash: never the token itself, in Redis or anywhere.
    return "visitor:" + hash_token(sender.token)[:16]


def wait_for_account(email: str) -> None:
    """TooManyRequests while the account's delay after its failures runs, unless this
    browser signed in to it before. Checked before the password, so a refused attempt
    costs no scrypt."""
    if _known_device(email):
        return
    storage = limiter.limiter.storage
    key = _account_key("sign-in-wait", email)
    try:
        if not storage.get(key):
            return
        retry_after = math.ceil(storage.get_expiry(key) - time.time())
    except storage.base_exceptions:
        return  # an outage of the counters never keeps an agent out
    retry_after = max(1, retry_after)
    raise errors.TooManyRequests(
        "Too many failed sign-ins for this account. Try again in {seconds} s.",
        retry_after=retry_after,
        seconds=retry_after,
        code="sign_in_delayed",
    )


def account_failed(email: str) -> None:
    """Count a failed sign-in for the account, and start its delay past the free ones."""
    storage = limiter.limiter.storage
    key = _account_key("sign-in-wait", email)
    try:
        failures = storage.incr(_account_key("sign-in-failures", email), FAILURE_WINDOW_S)
        if failures > FREE_FAILURES:
            storage.clear(key)
            storage.incr(key, min(MAX_DELAY_S, 2 ** (failures - FREE_FAILURES - 1)))
    except storage.base_exceptions:
        current_app.logger.warning("sign-in failure not counted: its storage is down")


def account_signed_in(email: str, response: Any) -> None:
    """Forget the account's failures, and remember this browser as one of its devices."""
    storage = limiter.limiter.storage
    try:
        storage.clear(_account_key("sign-in-failures", email))
        storage.clear(_account_key("sign-in-wait", email))
    except storage.base_exceptions:
        pass
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _device_seal().dumps(_normal(email)),
        max_age=365 * 24 * 3600,
        path="/dashboard/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def _known_device(email: str) -> bool:
    sealed = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not sealed:
        return False
    try:
        return _device_seal().loads(sealed) == _normal(email)
    except BadSignature:
        return False


def _device_seal() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="devtone-known-device")


def _normal(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _account_key(what: str, email: str) -> str:
    # A digest, so no e-mail address sits in Redis.
    digest = hashlib.sha256(_normal(email).encode()).hexdigest()[:24]
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}/{what}/{digest}"

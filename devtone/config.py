"""Settings from the environment, with safe defaults and errors that name the key."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from devtone import secret_key
from devtone.connections import (
    database_url,
    engine_options,
    rate_limit_storage_options,
    redis_cluster,
)
from devtone.mail import parse_smtp_url
from devtone.realtime.shards import MAX_SHARDS


class ConfigError(ValueError):
    """A setting in the environment has a value devtone cannot use."""


def _int(key: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a whole number.") from None


def _positive_float(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number.") from None
    if value <= 0:
        raise ConfigError(f"{key}={raw!r} must be greater than zero.")
    return value


def _positive_int(key: str, raw: str) -> int:
    value = _int(key, raw)
    if value <= 0:
        raise ConfigError(f"{key}={raw!r} must be greater than zero.")
    return value


def _longpoll_wait(key: str, raw: str) -> int:
    # Whole seconds, within what GET …/messages?wait= accepts.
    value = _positive_int(key, raw)
    if value > 30:
        raise ConfigError(f"{key}={raw!r} must be 30 seconds or less.")
    return value


def _redis_url(key: str, raw: str) -> str:
    # A cluster URL is parsed here, so a typo stops the start instead of the first publish.
    try:
        redis_cluster(raw)
    except ValueError as error:
        raise ConfigError(f"{key}={raw!r} is not a Redis Cluster address: {error}.") from None
    return raw


def _redis_shards(key: str, raw: str) -> int:
    value = _positive_int(key, raw)
    if value > MAX_SHARDS:
        raise ConfigError(f"{key}={raw!r} must be {MAX_SHARDS} or less.")
    return value


def _search_language(key: str, raw: str) -> str:
    # A regconfig name goes into SQL as a literal: letters and "_" only.
    if not re.fullmatch(r"[a-z_]{1,63}", raw.strip()):
        raise ConfigError(f"{key}={raw!r} is not a text search configuration name.")
    return raw.strip()


def _tiers(key: str, raw: str) -> tuple[str, ...]:
    known = ("sse", "longpoll", "poll")
    tiers = tuple(t.strip() for t in raw.split(",") if t.strip())
    unknown = [t for t in tiers if t not in known]
    if unknown or not tiers:
        raise ConfigError(f"{key}={raw!r}: choose one or more of {', '.join(known)}.")
    # The order of the tiers is the negotiator's order, whatever the operator wrote.
    return tuple(t for t in known if t in tiers)


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _origins(key: str, raw: str) -> tuple[str, ...]:
    # Sites allowed to frame /embed: exact origins, as a browser sends them (no path).
    origins = tuple(o.strip().rstrip("/") for o in raw.replace(",", " ").split() if o.strip())
    wrong = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if wrong:
        raise ConfigError(
            f"{key}: {', '.join(wrong)} is not an origin like https://www.example.com"
        )
    return origins


def _public_url(key: str, raw: str) -> str | None:
    # The address agents open devtone at, for links in e-mails: an origin, no path.
    value = raw.strip().rstrip("/")
    if not value:
        return None
    if not _ORIGIN.fullmatch(value):
        raise ConfigError(f"{key}={raw!r} is not an address like https://support.example.com")
    return value


def _smtp_url(key: str, raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        parse_smtp_url(raw)
    except ValueError as problem:
        # The URL may hold a password: the message names the key and the problem only.
        raise ConfigError(f"{key}: {problem} (like smtps://user:password@host:465).") from None
    return raw.strip()


def _mailbox(key: str, raw: str) -> str | None:
    # A bare address, user@domain: the reply address adds +<tag> after the user.
    value = raw.strip()
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", value):
        raise ConfigError(f"{key}={raw!r} is not an address like reply@support.example.com")
    return value


def _mail_from(key: str, raw: str) -> str | None:
    # "support@example.com" or "Support <support@example.com>".
    if not raw.strip():
        return None
    _, address = parseaddr(raw)
    if "@" not in address or any(ch in raw for ch in "\r\n"):
        raise ConfigError(f"{key}={raw!r} is not an address like Support <support@example.com>")
    return raw.strip()


def _proxy_hops(key: str, raw: str) -> int:
    value = _int(key, raw)
    if value < 0:
        raise ConfigError(f"{key}={raw!r} must be 0 (no proxy) or the number of proxies.")
    return value


def _networks(key: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    # Addresses or CIDR blocks ("10.0.0.0/8"), separated by commas or spaces.
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{key}: {item!r} is not an address or a block like 10.0.0.0/8"
            ) from None
    return tuple(networks)


#: An identity secret shorter than this is refused: a site's visitors' ids are signed
#: with it, and a short one could be guessed from a signed id.
IDENTITY_SECRET_MIN = 16


def _identity_secret(key: str, raw: str) -> str | None:
    # Unset or empty: identity is off, and every claimed id is ignored.
    if not raw.strip():
        return None
    if len(raw.strip()) < IDENTITY_SECRET_MIN:
        # The message never repeats the secret: start-up errors reach logs.
        raise ConfigError(
            f"{key} is shorter than {IDENTITY_SECRET_MIN} characters: use a long random "
            "string, e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return raw.strip()


def _flag(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ConfigError(f"{key}={raw!r} is not a yes/no value (1 or 0).")
    return value in ("1", "true", "yes", "on")


def _environment(key: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigError(f"{key}={raw!r}: choose {' or '.join(ENVIRONMENTS)}.")
    return value


def _team_name(key: str, raw: str) -> str:
    # Shown to visitors as the name of whoever answers them: a short, non-empty line.
    name = " ".join(raw.split())
    if not name:
        raise ConfigError(f"{key} is empty: name the team visitors write to, e.g. 'Acme support'.")
    if len(name) > 80:
        raise ConfigError(f"{key}={raw!r} is longer than 80 characters.")
    return name


def _rate_limit(key: str, raw: str) -> str:
    # Flask-Limiter's notation ("5 per minute;30 per hour"), checked now, not at first use.
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a rate limit like '5 per minute'.") from None
    return raw


#: DEVTONE_ENV: `make run` and the tests are development; deployments say production.
ENVIRONMENTS = ("development", "production")

# key in the environment -> (config key, cast, default)
_SETTINGS: dict[str, tuple[str, Callable[[str, str], Any], str | None]] = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", lambda k, v: v, None),
    "REDIS_URL": ("REDIS_URL", _redis_url, None),
    "DEVTONE_ENV": ("ENVIRONMENT", _environment, "development"),
    "DEVTONE_REDIS_CHANNEL": ("REDIS_CHANNEL", lambda k, v: v, "devtone:events"),
    # On a Redis Cluster (REDIS_URL=redis+cluster://…): how many slots the channels are
    # spread over (docs/deploy.md, "Past one Redis").
    "DEVTONE_REDIS_SHARDS": ("REDIS_SHARDS", _redis_shards, "64"),
    "SECRET_KEY": ("SECRET_KEY", lambda k, v: v, None),
    "DEVTONE_DB_POOL_SIZE": ("DB_POOL_SIZE", _positive_int, "10"),
    # A request waits this long for a pooled connection, then answers 503. Only load
    # makes it wait (a hung server fails its waits within seconds, below), and riding
    # out a burst beats refusing it: 1,000 streams reconnecting at once to one worker
    # took 3-5 s to get through 10 connections on a busy test machine.
    "DEVTONE_DB_POOL_TIMEOUT": ("DB_POOL_TIMEOUT", _positive_float, "10"),
    # A hung database costs a request seconds, not minutes: connecting waits this long
    # (whole seconds), and a statement runs at most this long.
    "DEVTONE_DB_CONNECT_TIMEOUT": ("DB_CONNECT_TIMEOUT", _positive_int, "2"),
    "DEVTONE_DB_STATEMENT_TIMEOUT": ("DB_STATEMENT_TIMEOUT", _positive_float, "2"),
    # Each publish, rate-limit count and /readyz ping waits this long for Redis.
    "DEVTONE_REDIS_TIMEOUT": ("REDIS_TIMEOUT", _positive_float, "0.25"),
    "DEVTONE_SSE_HEARTBEAT": ("SSE_HEARTBEAT", _positive_float, "15"),
    "DEVTONE_SSE_RETRY_MS": ("SSE_RETRY_MS", _positive_int, "3000"),
    "DEVTONE_SSE_HELLO_TIMEOUT": ("SSE_HELLO_TIMEOUT", _positive_float, "10"),
    "DEVTONE_SUBSCRIBER_QUEUE": ("SUBSCRIBER_QUEUE", _positive_int, "256"),
    "DEVTONE_LONGPOLL_WAIT": ("LONGPOLL_WAIT", _longpoll_wait, "25"),
    "DEVTONE_POLL_INTERVAL": ("POLL_INTERVAL", _positive_float, "30"),
    "DEVTONE_TIERS": ("TIERS", _tiers, "sse,longpoll,poll"),
    "DEVTONE_BACKOFF_INITIAL_MS": ("BACKOFF_INITIAL_MS", _positive_int, "1000"),
    "DEVTONE_BACKOFF_MAX_MS": ("BACKOFF_MAX_MS", _positive_int, "30000"),
    "DEVTONE_LOGIN_RATE_LIMIT": ("LOGIN_RATE_LIMIT", _rate_limit, "5 per minute;30 per hour"),
    # Sign-in attempts per client address, whatever the e-mail: spraying from one place.
    "DEVTONE_LOGIN_ADDRESS_RATE_LIMIT": (
        "LOGIN_ADDRESS_RATE_LIMIT",
        _rate_limit,
        "20 per minute;100 per hour",
    ),
    # Abuse limits (see web/limits.py): per client address, per conversation, and
    # open streams plus long-poll waits, per conversation and in the whole process.
    "DEVTONE_CONVERSATION_RATE_LIMIT": (
        "CONVERSATION_RATE_LIMIT",
        _rate_limit,
        "10 per minute;100 per hour",
    ),
    "DEVTONE_MESSAGE_RATE_LIMIT": ("MESSAGE_RATE_LIMIT", _rate_limit, "60 per minute"),
    # A signed visitor's pages ask for their conversations on every load (identify()):
    # counted apart from conversation starts, so browsing a shop never uses those up.
    "DEVTONE_IDENTITY_RATE_LIMIT": ("IDENTITY_RATE_LIMIT", _rate_limit, "60 per minute"),
    # Calls one API token may make, to any endpoint, from anywhere (web/token_access.py).
    "DEVTONE_TOKEN_RATE_LIMIT": ("TOKEN_RATE_LIMIT", _rate_limit, "600 per minute"),
    # Typing signals per conversation and sender: a typist sends about 30 a minute.
    "DEVTONE_TYPING_RATE_LIMIT": ("TYPING_RATE_LIMIT", _rate_limit, "120 per minute"),
    # A page moves its marks once a second at most; a few tabs of one person stay under it.
    "DEVTONE_MARK_RATE_LIMIT": ("MARK_RATE_LIMIT", _rate_limit, "240 per minute"),
    "DEVTONE_STREAMS_PER_CONVERSATION": ("STREAMS_PER_CONVERSATION", _positive_int, "10"),
    # gunicorn.conf.py's worker_connections is 10,000: visitors' streams may take 9,000,
    # agents' (dashboards, transcripts, the monitor) have 500 of their own that visitors
    # can never fill, and the rest is kept for ordinary requests.
    "DEVTONE_MAX_STREAMS": ("MAX_STREAMS", _positive_int, "9000"),
    "DEVTONE_AGENT_STREAMS": ("AGENT_STREAMS", _positive_int, "500"),
    "DEVTONE_TYPING_INTERVAL": ("TYPING_INTERVAL", _positive_float, "2"),
    # The dashboard repeats an alert (sound, notification) this often until the
    # conversation is seen (at most five times; the tests shorten it).
    "DEVTONE_ALERT_REPEAT_SECONDS": ("ALERT_REPEAT_SECONDS", _positive_float, "30"),
    "DEVTONE_PROXY_HOPS": ("PROXY_HOPS", _proxy_hops, "0"),
    # Whose forwarding headers to believe: the addresses the proxies connect from. The
    # default, loopback, is nginx on the same host; nobody else can connect from there.
    "DEVTONE_TRUSTED_PROXIES": ("TRUSTED_PROXIES", _networks, "127.0.0.0/8,::1"),
    "DEVTONE_EMBED_ORIGINS": ("EMBED_ORIGINS", _origins, ""),
    # Signed visitor identity (docs/identity.md): the sites' servers sign their signed-in
    # visitors' ids with it (HMAC-SHA256). Unset: ids are ignored, never trusted.
    "DEVTONE_IDENTITY_SECRET": ("IDENTITY_SECRET", _identity_secret, None),
    # The name an empty conversation greets visitors with ("Support · typically replies…").
    # Unset: the page says "Support" in its own language.
    "DEVTONE_TEAM_NAME": ("TEAM_NAME", _team_name, None),
    # Unset: on in production, off in development (see load).
    "DEVTONE_SECURE_COOKIES": ("SECURE_COOKIES", _flag, None),
    # Observability: GET /metrics answers only this bearer token (unset: 404), and how
    # often one client address may report a tier change.
    "DEVTONE_METRICS_TOKEN": ("METRICS_TOKEN", lambda k, v: v or None, None),
    "DEVTONE_TIER_REPORT_RATE_LIMIT": ("TIER_REPORT_RATE_LIMIT", _rate_limit, "30 per minute"),
    # The doctor's test stream and wait (web/doctor.py), together, per client address: a
    # run takes three (stream, wait, clock), each holding a connection up to a heartbeat
    # or a long-poll wait.
    "DEVTONE_DOCTOR_RATE_LIMIT": ("DOCTOR_RATE_LIMIT", _rate_limit, "20 per minute"),
    # Password reset links (seconds they work) and how often they may be asked for: per
    # client address (the forgotten-password and new-password forms together), and
    # e-mails per address asked for, so nobody floods an agent's inbox.
    "DEVTONE_RESET_LINK_LIFETIME": ("RESET_LINK_LIFETIME", _positive_int, "3600"),
    "DEVTONE_RESET_RATE_LIMIT": ("RESET_RATE_LIMIT", _rate_limit, "5 per minute;30 per hour"),
    "DEVTONE_RESET_EMAIL_RATE_LIMIT": ("RESET_EMAIL_RATE_LIMIT", _rate_limit, "3 per hour"),
    # Outgoing e-mail (devtone/mail.py): off unless DEVTONE_SMTP_URL is set.
    "DEVTONE_SMTP_URL": ("SMTP_URL", _smtp_url, None),
    "DEVTONE_MAIL_FROM": ("MAIL_FROM", _mail_from, None),
    "DEVTONE_SMTP_TIMEOUT": ("SMTP_TIMEOUT", _positive_float, "10"),
    # E-mail to visitors (devtone/mail_out.py): agent replies left unseen this many
    # seconds go to a visitor who gave an address, all in one e-mail. Replies to it go to
    # DEVTONE_MAIL_REPLY_TO (unset: DEVTONE_MAIL_FROM's address) with a tag after "+".
    "DEVTONE_EMAIL_AFTER": ("EMAIL_AFTER", _positive_float, "300"),
    "DEVTONE_MAIL_REPLY_TO": ("MAIL_REPLY_TO", _mailbox, None),
    # How often the sender looks for e-mails to send, and its first wait after a failure
    # (doubled at each failure, up to an hour).
    # POST /api/mail/inbound (replies a mail provider receives): off unless this token is
    # set; the provider sends it as ?token= or as the password of HTTP Basic auth.
    "DEVTONE_MAIL_INBOUND_TOKEN": ("MAIL_INBOUND_TOKEN", lambda k, v: v.strip() or None, None),
    # Transcripts by e-mail one conversation may ask for.
    "DEVTONE_TRANSCRIPT_RATE_LIMIT": ("TRANSCRIPT_RATE_LIMIT", _rate_limit, "3 per hour"),
    "DEVTONE_MAIL_CHECK_EVERY": ("MAIL_CHECK_EVERY", _positive_float, "5"),
    "DEVTONE_MAIL_RETRY_AFTER": ("MAIL_RETRY_AFTER", _positive_float, "30"),
    # Webhooks (devtone/webhooks_out.py, docs/webhooks.md). An endpoint on a private,
    # loopback or link-local address is refused unless this is 1 (server-side request
    # forgery: the tests set it for their loopback receiver).
    "DEVTONE_WEBHOOK_ALLOW_PRIVATE": ("WEBHOOK_ALLOW_PRIVATE", _flag, "0"),
    # How often the sender looks for events to deliver; its first wait after a failure
    # (doubled at each, up to an hour); how long it waits for a receiver's answer; and how
    # long an event is retried (and an endpoint may fail) before it is given up (disabled).
    "DEVTONE_WEBHOOK_CHECK_EVERY": ("WEBHOOK_CHECK_EVERY", _positive_float, "1"),
    "DEVTONE_WEBHOOK_RETRY_AFTER": ("WEBHOOK_RETRY_AFTER", _positive_float, "10"),
    "DEVTONE_WEBHOOK_TIMEOUT": ("WEBHOOK_TIMEOUT", _positive_float, "10"),
    "DEVTONE_WEBHOOK_GIVE_UP_AFTER": ("WEBHOOK_GIVE_UP_AFTER", _positive_float, "86400"),
    # The sender's lease (one process at a time sends): longer than the timeout.
    "DEVTONE_WEBHOOK_LEASE_SECONDS": ("WEBHOOK_LEASE_SECONDS", _positive_float, "60"),
    # How long a process trusts its knowledge of whether any endpoint is enabled: a
    # change made by another process is seen within this many seconds (the process that
    # makes it knows at once). While none is, a change writes no event: no extra query.
    "DEVTONE_WEBHOOK_ENDPOINTS_CHECK_EVERY": (
        "WEBHOOK_ENDPOINTS_CHECK_EVERY",
        _positive_float,
        "5",
    ),
    # Where agents reach devtone, for links in e-mails (unset: the address of the request).
    "DEVTONE_PUBLIC_URL": ("PUBLIC_URL", _public_url, None),
    # Attachments: the largest file one upload may carry (megabytes), and the folder the
    # files go to (unset: instance/attachments; several hosts: a shared mount, docs/deploy.md).
    "DEVTONE_UPLOAD_MAX_MB": ("UPLOAD_MAX_MB", _positive_int, "10"),
    "DEVTONE_UPLOAD_FOLDER": ("UPLOAD_FOLDER", lambda k, v: v.strip() or None, None),
    # PostgreSQL's text search configuration for GET /api/search (domain/search.py):
    # "portuguese" stems Brazilian Portuguese and still matches English words as written.
    # The index is built with the value at `flask db upgrade`; change both together.
    "DEVTONE_SEARCH_LANGUAGE": ("SEARCH_LANGUAGE", _search_language, "portuguese"),
    # Retention (devtone/retention.py): the visitor data of conversations closed more than
    # this many days ago is erased, once a day (docs/privacy.md). Unset: kept for ever.
    "DEVTONE_RETENTION_DAYS": ("RETENTION_DAYS", _positive_int, None),
    "DEVTONE_HOST": ("HOST", lambda k, v: v, "127.0.0.1"),
    "DEVTONE_PORT": ("PORT", _int, "5000"),
}

#: JSON request bodies are small; anything larger is refused with 413 before parsing.
MAX_CONTENT_LENGTH = 16 * 1024

# Request heads are small too: devtone's longest URL is a stream's with its token (~150
# bytes), its cookies take well under 1 KiB, a browser sends some 20 headers and a proxy
# adds a few. Both servers (gunicorn.conf.py, server.py) refuse a head past these limits,
# which add up to 63,554 bytes at most, under 64 KiB however the head is shaped; with
# gunicorn's defaults (100 fields of 8 KiB) one request could carry ~800 KiB.
#: The request line, its CRLF aside (bytes); a longer one is 414.
REQUEST_LINE_LIMIT = 2048
#: Header fields in one request; more is 431.
REQUEST_FIELDS_LIMIT = 30
#: One header line, its CRLF included (bytes); a longer one is 431. Raising it means
#: lowering REQUEST_FIELDS_LIMIT: their product is what bounds the head.
REQUEST_FIELD_SIZE_LIMIT = 2048
#: Seconds a client has to send a whole head (and an idle keep-alive connection lasts):
#: a client trickling its headers cannot hold a connection longer.
REQUEST_HEAD_SECONDS = 5


def load(
    environ: Mapping[str, str], instance_path: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read devtone's settings from `environ`, falling back to safe defaults; `overrides`
    (tests) replace any of them, and what derives from them follows."""
    settings: dict[str, Any] = {}
    for env_key, (config_key, cast, default) in _SETTINGS.items():
        raw = environ.get(env_key, default)
        settings[config_key] = None if raw is None else cast(env_key, raw)

    if settings["SQLALCHEMY_DATABASE_URI"] is None:
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
            Path(instance_path) / "devtone.sqlite3"
        )
    production = settings["ENVIRONMENT"] == "production"
    if production:
        # Checked before the instance folder is read: production never falls back to it.
        problem = secret_key.production_problem(settings["SECRET_KEY"])
        if problem:
            raise ConfigError(problem)
    # Whether the secret is the instance folder's: `init-db` (and `make run`'s first
    # start) writes it after the app was built, and the app must then sign with it.
    settings["SECRET_KEY_FROM_INSTANCE"] = settings["SECRET_KEY"] is None
    if settings["SECRET_KEY"] is None:
        settings["SECRET_KEY"] = secret_key.instance_or_random(instance_path)
    if settings["SECURE_COOKIES"] is None:
        # Production is served over HTTPS; `make run` is plain http://127.0.0.1.
        settings["SECURE_COOKIES"] = production
    _check_mail(settings, production)
    if settings["BACKOFF_MAX_MS"] < settings["BACKOFF_INITIAL_MS"]:
        raise ConfigError("DEVTONE_BACKOFF_MAX_MS must not be below DEVTONE_BACKOFF_INITIAL_MS.")
    settings["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    settings.update(_web_settings(settings))
    settings.update(overrides or {})
    settings["SQLALCHEMY_DATABASE_URI"] = database_url(settings["SQLALCHEMY_DATABASE_URI"])
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (overrides or {}):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            settings["SQLALCHEMY_DATABASE_URI"],
            settings["DB_POOL_SIZE"],
            settings["DB_POOL_TIMEOUT"],
            settings["DB_CONNECT_TIMEOUT"],
            settings["DB_STATEMENT_TIMEOUT"],
        )
    if "RATELIMIT_STORAGE_OPTIONS" not in (overrides or {}):
        settings["RATELIMIT_STORAGE_OPTIONS"] = rate_limit_storage_options(
            settings["RATELIMIT_STORAGE_URI"], settings["REDIS_TIMEOUT"]
        )
    return settings


def _check_mail(settings: dict[str, Any], production: bool) -> None:
    """E-mail needs a sender; in production, the address its links point at too."""
    if not settings["SMTP_URL"]:
        return
    if not settings["MAIL_FROM"]:
        raise ConfigError(
            "DEVTONE_SMTP_URL is set but DEVTONE_MAIL_FROM is not: set the address e-mails "
            "come from, like Support <support@example.com>."
        )
    if production and not settings["PUBLIC_URL"]:
        # The forgotten-password form is anyone's: a link built from its request's Host
        # header would point wherever the sender of that request chose.
        raise ConfigError(
            "DEVTONE_SMTP_URL is set but DEVTONE_PUBLIC_URL is not, and DEVTONE_ENV="
            "production: set the address agents open devtone at, like "
            "https://support.example.com, so e-mailed links point there."
        )


def _web_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Sessions, CSRF and rate limits, derived from the settings above."""
    return {
        # The dashboard's cookie: never readable by scripts, never sent cross-site.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Behind HTTPS, never sent over plain HTTP (on by default in production only).
        "SESSION_COOKIE_SECURE": settings["SECURE_COOKIES"],
        "REMEMBER_COOKIE_SECURE": settings["SECURE_COOKIES"],
        # Checked explicitly where a cookie authenticates (see extensions.csrf).
        "WTF_CSRF_CHECK_DEFAULT": False,
        # A dashboard tab stays open all day; the token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        # Shared across processes when Redis is there, so every worker counts the same tries.
        "RATELIMIT_STORAGE_URI": settings["REDIS_URL"] or "memory://",
        # Deployments sharing one Redis keep their own counts, as they keep their channel.
        "RATELIMIT_KEY_PREFIX": settings["REDIS_CHANNEL"],
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis away: each process counts on its own until it is back (and a limit that
        # cannot be counted at all lets the request through): an outage of the counters
        # must never refuse a customer's message or an agent's sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        **COMPRESSION,
    }


#: Flask-Compress: pages and JSON answers go out compressed, brotli where the browser takes
#: it, else gzip. Never a streamed answer: an SSE stream must reach the browser event by
#: event (DESIGN.md §2), and the static build is compressed once by `make assets`. Bodies
#: under 1000 bytes go as they are: with their headers they fit one packet either way, and
#: most long-poll and poll answers are that small, so compressing them would cost CPU on
#: the hottest path and save nothing.
COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    "COMPRESS_STREAMS": False,
    "COMPRESS_MIN_SIZE": 1000,
}

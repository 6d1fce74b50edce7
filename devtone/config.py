"""Settings from the environment, with safe defaults and errors that name the key."""

from __future__ import annotations

import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import make_url


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

#: The shortest SECRET_KEY production accepts: 32 characters ("dev", "change-me" and the
#: like are far shorter; `secrets.token_hex(32)` makes 64).
MIN_SECRET_LENGTH = 32
#: The least entropy production accepts in SECRET_KEY, as `_secret_bits` estimates it. The
#: estimate runs low on random keys, so 32 random hex characters (128 bits) may fall short:
#: 64 do not (token_hex(32), what the error message suggests).
MIN_SECRET_BITS = 128

# key in the environment -> (config key, cast, default)
_SETTINGS: dict[str, tuple[str, Callable[[str, str], Any], str | None]] = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", lambda k, v: v, None),
    "REDIS_URL": ("REDIS_URL", lambda k, v: v, None),
    "DEVTONE_ENV": ("ENVIRONMENT", _environment, "development"),
    "DEVTONE_REDIS_CHANNEL": ("REDIS_CHANNEL", lambda k, v: v, "devtone:events"),
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
    # Typing signals per conversation and sender: a typist sends about 30 a minute.
    "DEVTONE_TYPING_RATE_LIMIT": ("TYPING_RATE_LIMIT", _rate_limit, "120 per minute"),
    "DEVTONE_STREAMS_PER_CONVERSATION": ("STREAMS_PER_CONVERSATION", _positive_int, "10"),
    # gunicorn.conf.py's worker_connections is 10,000: visitors' streams may take 9,000,
    # agents' (dashboards, transcripts, the monitor) have 500 of their own that visitors
    # can never fill, and the rest is kept for ordinary requests.
    "DEVTONE_MAX_STREAMS": ("MAX_STREAMS", _positive_int, "9000"),
    "DEVTONE_AGENT_STREAMS": ("AGENT_STREAMS", _positive_int, "500"),
    "DEVTONE_TYPING_INTERVAL": ("TYPING_INTERVAL", _positive_float, "2"),
    "DEVTONE_PROXY_HOPS": ("PROXY_HOPS", _proxy_hops, "0"),
    # Whose forwarding headers to believe: the addresses the proxies connect from. The
    # default, loopback, is nginx on the same host; nobody else can connect from there.
    "DEVTONE_TRUSTED_PROXIES": ("TRUSTED_PROXIES", _networks, "127.0.0.0/8,::1"),
    "DEVTONE_EMBED_ORIGINS": ("EMBED_ORIGINS", _origins, ""),
    # Unset: on in production, off in development (see load).
    "DEVTONE_SECURE_COOKIES": ("SECURE_COOKIES", _flag, None),
    # Observability: GET /metrics answers only this bearer token (unset: 404), and how
    # often one client address may report a tier change.
    "DEVTONE_METRICS_TOKEN": ("METRICS_TOKEN", lambda k, v: v or None, None),
    "DEVTONE_TIER_REPORT_RATE_LIMIT": ("TIER_REPORT_RATE_LIMIT", _rate_limit, "30 per minute"),
    "DEVTONE_HOST": ("HOST", lambda k, v: v, "127.0.0.1"),
    "DEVTONE_PORT": ("PORT", _int, "5000"),
}

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret

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
        _check_production_secret(settings["SECRET_KEY"])
    # Whether the secret is the instance folder's: `init-db` (and `make run`'s first
    # start) writes it after the app was built, and the app must then sign with it.
    settings["SECRET_KEY_FROM_INSTANCE"] = settings["SECRET_KEY"] is None
    if settings["SECRET_KEY"] is None:
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path))
    if settings["SECURE_COOKIES"] is None:
        # Production is served over HTTPS; `make run` is plain http://127.0.0.1.
        settings["SECURE_COOKIES"] = production
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
    }


def database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver psycogreen makes cooperative.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which gevent cannot patch
    the same way; `postgres://` is the spelling many hosting providers hand out.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def engine_options(
    url: str,
    pool_size: int,
    pool_timeout: float,
    connect_timeout: int = 2,
    statement_timeout: float = 2.0,
) -> dict[str, Any]:
    """SQLAlchemy engine options: a bounded pool, so a flood of requests queues, not grows;
    on PostgreSQL, connect and statement timeouts, so a hung server fails requests fast."""
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
        # A server restart or a proxy's idle timeout can drop a pooled connection: test it
        # at checkout. A SQLite file cannot drop, and the ping cost every request a query.
        "pool_pre_ping": not url.startswith("sqlite"),
    }
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        options["connect_args"] = {"timeout": 15}
    elif url.startswith("postgresql"):
        options["connect_args"] = postgres_connect_args(url, connect_timeout, statement_timeout)
    return options


def postgres_connect_args(url: str, connect_timeout: int, statement_timeout: float) -> dict:
    """libpq's connect_timeout, and statement_timeout for every session, added to the
    URL's own `options` (connect_args would replace them). devtone.database reads both
    back from each connection to bound its waits on a server that answers nothing."""
    given = make_url(url).query.get("options") or ""
    if isinstance(given, tuple):
        given = " ".join(given)
    # Readers hold no connection while they wait (DESIGN.md §2), so no legitimate
    # statement of devtone's runs for seconds; migrations lift the limit (migrations/env.py).
    ours = f"-c statement_timeout={round(statement_timeout * 1000)}"
    return {"connect_timeout": connect_timeout, "options": f"{given} {ours}".strip()}


def rate_limit_storage_options(uri: str, timeout: float) -> dict[str, Any]:
    """Flask-Limiter's Redis client: short timeouts and no retries, so a hung Redis costs a
    counted request at most `timeout` (and web/limits.py then stops asking for a while)."""
    if not uri.startswith(("redis://", "rediss://", "unix://")):
        return {}
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }


def _check_production_secret(secret: str | None) -> None:
    """Refuse to run production on a secret the operator did not choose.

    The instance folder's secret (or a random one per process) would differ between hosts
    and workers, signing every agent out whenever a request lands elsewhere.
    """
    hint = (
        "set SECRET_KEY to a random key, the same on every host, such as the 64 hex "
        "characters of python3 -c 'import secrets; print(secrets.token_hex(32))'"
    )
    if not secret:
        raise ConfigError(f"SECRET_KEY is not set and DEVTONE_ENV=production: {hint}.")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"SECRET_KEY is too short for DEVTONE_ENV=production: {hint}.")
    bits = _secret_bits(secret)
    if bits < MIN_SECRET_BITS:
        raise ConfigError(
            f"SECRET_KEY is too predictable for DEVTONE_ENV=production (about {bits:.0f} "
            f"bits of entropy; {MIN_SECRET_BITS} needed): {hint}."
        )


def _secret_bits(secret: str) -> float:
    """A cautious estimate of the entropy in `secret`, in bits.

    The Shannon entropy of its characters (bits per character, from how often each one
    occurs) times the number of distinct runs of four characters in it, so a repeated
    pattern counts once: 32 spaces score 0, "abcd" * 8 scores 8, "0123456789abcdef" * 4
    scores 64. A random key scores less than it holds (a sample never shows its whole
    alphabet), but `secrets.token_hex(32)` still scores 200+, `token_urlsafe(32)` 170+.
    It cannot recognise a phrase or a keyboard row: those the hint's advice covers.
    """
    counts = Counter(secret).values()
    per_character = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts)
    runs = {secret[i : i + 4] for i in range(len(secret) - 3)}
    return per_character * len(runs)


def _instance_secret(instance: Path) -> str:
    """The secret kept in the instance folder by `init-db`, or a random one for this run.

    Never a guessable default; the factory only reads, the `init-db` command writes.
    """
    try:
        return read_instance_secret(str(instance))
    except FileNotFoundError:
        return secrets.token_hex(32)


def read_instance_secret(instance_path: str) -> str:
    """The secret kept in the instance folder (FileNotFoundError before `init-db`)."""
    return (Path(instance_path) / SECRET_FILE).read_text().strip()


def write_instance_secret(instance_path: str) -> bool:
    """Create the instance folder's secret once; return whether one was written."""
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(instance / SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return True

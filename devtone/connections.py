"""How devtone connects to its services: the database URL's driver, the engine's pool and
timeouts, and the rate limiter's Redis client."""

from __future__ import annotations

from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import make_url


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

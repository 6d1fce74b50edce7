"""How devtone connects to its services: the database URL's driver, the engine's pool and
timeouts, the rate limiter's Redis client, and a Redis Cluster's address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

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
    if not uri.startswith(("redis://", "rediss://", "unix://", CLUSTER_SCHEME)):
        return {}
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }


#: REDIS_URL names a Redis Cluster with this scheme (the one Flask-Limiter's storage,
#: `limits`, reads too): redis+cluster://[user:password@]host:port[,host:port…]
CLUSTER_SCHEME = "redis+cluster://"


@dataclass(frozen=True)
class ClusterAddress:
    """Where a Redis Cluster is: some of its nodes (the client finds the rest)."""

    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None


def redis_cluster(url: str) -> ClusterAddress | None:
    """The cluster a redis+cluster:// URL names; None for any other URL (one Redis).
    Raises ValueError, saying what is wrong, for a cluster URL without a usable node."""
    if not url.startswith(CLUSTER_SCHEME):
        return None
    rest = url[len(CLUSTER_SCHEME) :].split("/", 1)[0].split("?", 1)[0]
    credentials, _, hosts = rest.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for address in filter(None, hosts.split(",")):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{address!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    if not nodes:
        raise ValueError("it names no node; write redis+cluster://host:port,host:port")
    return ClusterAddress(nodes, unquote(username) or None, unquote(password) or None)

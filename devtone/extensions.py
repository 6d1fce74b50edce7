"""Flask extensions, created unbound here and bound to an app in `init_app`."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis.exceptions import RedisClusterException
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

logger = logging.getLogger(__name__)

#: Alembic revisions live at the top of the repository, next to the package.
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base for devtone's models."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
#: Agents sign in with a session cookie; visitors never do (they hold a bearer token).
login_manager = LoginManager()
#: CSRF is checked where a cookie authenticates: forms, and agents' unsafe API calls
#: (WTF_CSRF_CHECK_DEFAULT is off, so a visitor's bearer-token POST is not asked for one).
csrf = CSRFProtect()
#: Only the routes that say so are limited (sign-in attempts, for now).
limiter = Limiter(key_func=get_remote_address)
#: Compresses text answers (config.COMPRESSION says which, and why never a stream).
compress = Compress()


def init_app(app: Flask) -> None:
    """Bind every extension to `app`."""
    db.init_app(app)
    # render_as_batch lets the same revisions ALTER tables on SQLite, which cannot in place.
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    _limit(app)
    # Its after_request runs last (Flask runs them in reverse order of registration), so
    # it compresses each answer as every other hook left it.
    compress.init_app(app)


def _limit(app: Flask) -> None:
    """Count rate limits where config says. A Redis Cluster's client reads the topology
    when it is built, so a cluster that is down makes limits' storage raise here: the
    process then counts in its own memory, as Flask-Limiter does when the storage fails
    later, and says so, instead of refusing to start over its counters."""
    try:
        limiter.init_app(app)
    except RedisClusterException as error:
        logger.warning(
            "Rate limits count in this process only, until it restarts: the Redis Cluster"
            " did not answer at start (%s: %s)",
            type(error).__name__,
            error,
        )
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {}
        limiter.init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ANN001
    """WAL lets streams read while a post writes; foreign keys keep the log honest.

    synchronous=NORMAL, as SQLite advises for WAL: a commit survives the process being
    killed or restarted, and the file is never corrupted; only an OS crash or power cut
    may take back the last commits. FULL would fsync on every post, stalling the whole
    gevent worker (SQLite calls block it) for ~0.3 ms each; deployments that need
    power-cut durability run PostgreSQL.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

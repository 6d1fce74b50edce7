"""The PostgreSQL databases the tests use: one of its own per test, made ahead and dropped
in the background, so the test waits for neither.

A plain helper (conftest.py's `database_url` fixture holds one per pytest process).
Where the time went before: `DROP DATABASE` makes the server take an immediate checkpoint
and waits for it (0.6–1 s here, several under load), and `db.create_all()` on an empty
PostgreSQL database takes 0.3–0.5 s; on a suite of a thousand PostgreSQL tests that was
the better part of ten minutes of waiting. Drops issued together share one checkpoint.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import create_engine, make_url, text

from devtone import create_app
from devtone.extensions import db


class PostgresDatabases:
    """Empty databases, or databases holding the models' schema (what `db.create_all()`
    makes), each used by one test and dropped after it.

    A database with the schema is a copy of a template this process builds once with
    `db.create_all()` (`CREATE DATABASE … TEMPLATE`): the test's own `create_all()` then
    finds every table there, as it would after making them itself. One database of each
    kind is made ahead while a test runs; drops run on a few threads and are waited for
    at the end of the session (`close`), which also reports the first that failed.
    """

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=4)
        self.prefix = f"devtone_test_{uuid.uuid4().hex[:8]}"
        self._count = 0
        self._template: str | None = None
        # Databases are made on one thread (no two makers race for a name or the
        # template); drops on several, which the server serves with one checkpoint.
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db-make")
        self._droppers = ThreadPoolExecutor(max_workers=3, thread_name_prefix="test-db-drop")
        self._ahead: dict[bool, Future[str]] = {}
        self._drops: list[Future[None]] = []

    def url(self, name: str) -> str:
        """The URL of database `name` on the server of `admin_url`."""
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def take(self, with_schema: bool) -> str:
        """The name of a new database of the caller's own (empty, or with the schema)."""
        made = self._ahead.pop(with_schema, None) or self._maker.submit(self._create, with_schema)
        name = made.result()
        self._ahead[with_schema] = self._maker.submit(self._create, with_schema)
        return name

    def drop(self, name: str) -> None:
        """Drop `name` in the background, with whatever is still connected to it."""
        self._drops.append(self._droppers.submit(self._execute, _drop(name)))

    def close(self) -> None:
        """Drop everything this process made, wait for it, and raise the first failure."""
        for made in self._ahead.values():
            with contextlib.suppress(Exception):  # a failed creation left nothing to drop
                self.drop(made.result())
        self._ahead.clear()
        self._maker.shutdown()
        if self._template is not None:
            self.drop(self._template)
        try:
            for dropped in self._drops:
                dropped.result()
        finally:
            self._droppers.shutdown()
            self.admin.dispose()

    def _create(self, with_schema: bool) -> str:
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        template = f' TEMPLATE "{self._schema_template()}"' if with_schema else ""
        self._execute(f'CREATE DATABASE "{name}"{template}')
        return name

    def _schema_template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}_schema"
            self._execute(f'CREATE DATABASE "{name}"')
            # As conftest.py's app_on makes an app (its other settings shape no table).
            app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": self.url(name)})
            with app.app_context():
                db.create_all()
                db.session.remove()
                db.engine.dispose()  # a template must have no one connected to it
            self._template = name
        return self._template

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

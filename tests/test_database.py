"""Waiting on the database never lasts for ever: each wait on a silent server gives up at
the connection's limit, the next ones fail at once for a moment, and /readyz's check
answers within its own timeout without piling up connections."""

import json
import subprocess
import sys
import time

import pytest

from devtone import connections
from devtone.database import ReadinessCheck, wait_limit
from tests.servers import ROOT


@pytest.mark.parametrize(
    ("dsn", "limit"),
    [
        ("host=h dbname=d connect_timeout=2 options='-c statement_timeout=2000'", 3.0),
        ("host=h dbname=d connect_timeout=5 options='-c statement_timeout=500'", 5.0),
        ("host=h dbname=d options='-c search_path=x -c statement_timeout=4000'", 5.0),
        ("host=h dbname=d connect_timeout=2", 2.0),
        ("host=h dbname=d options='-c statement_timeout=0'", None),
        ("host=h dbname=d", None),
    ],
)
def test_the_longest_wait_comes_from_the_connections_own_timeouts(dsn, limit):
    assert wait_limit(dsn) == limit


# The production wiring, in a process of its own: wsgi.py patches before anything else
# imports socket or psycopg2, which this process already has.
SCRIPT = """
import json, time, wsgi
from sqlalchemy import text
from devtone.extensions import db

answers = []
with wsgi.app.app_context():
    for _ in range(3):
        started = time.monotonic()
        try:
            db.session.execute(text("SELECT 1"))
            error = None
        except Exception as failure:
            error = type(failure).__name__
        finally:
            db.session.remove()
        answers.append((error, time.monotonic() - started))
print(json.dumps(answers))
"""


def test_under_gevent_a_silent_server_fails_one_wait_at_its_limit_and_the_next_at_once(
    silent_server, tmp_path
):
    environment = {
        "DATABASE_URL": silent_server.url("postgresql"),
        "DEVTONE_DB_CONNECT_TIMEOUT": "1",
        "DEVTONE_DB_STATEMENT_TIMEOUT": "0.5",  # the limit: max(1, 0.5 + 1) = 1.5 s
        "DEVTONE_INSTANCE_PATH": str(tmp_path),
        "PATH": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    (first, first_seconds), *rest = json.loads(result.stdout)
    assert first == "OperationalError"
    assert 1.2 < first_seconds < 3
    for error, seconds in rest:
        assert error == "OperationalError"
        assert seconds < 0.2  # the server failed a wait a moment ago: fail fast


def test_the_readiness_check_says_no_within_its_timeout_when_the_server_is_silent(
    silent_server,
):
    url = connections.database_url(silent_server.url("postgresql"))
    check = ReadinessCheck(url, {"connect_timeout": 2}, timeout=0.3)
    started = time.monotonic()
    assert check() is False
    assert time.monotonic() - started < 0.6
    # The first check still waits on its connection: the next says no at once, and
    # opens no second connection to the silent server.
    started = time.monotonic()
    assert check() is False
    assert time.monotonic() - started < 0.1
    assert len(silent_server.accepted) == 1


def test_the_readiness_check_says_yes_when_the_database_answers(database_url):
    check = ReadinessCheck(connections.database_url(database_url), {}, timeout=1.5)
    assert check() is True
    assert check() is True

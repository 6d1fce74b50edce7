"""wsgi.py makes psycopg2 cooperative: a slow query parks its greenlet, not the worker."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own: the gevent patching in wsgi.py must happen before anything
# else imports socket or psycopg2, which the test process already has.
SCRIPT = """
import gevent, wsgi
from sqlalchemy import text
from devtone.extensions import db

ticks = 0

def tick():
    global ticks
    while True:
        gevent.sleep(0.01)
        ticks += 1

with wsgi.app.app_context():
    db.session.execute(text("SELECT 1"))  # connect first, so only the sleep is measured
    ticker = gevent.spawn(tick)
    gevent.sleep(0)
    db.session.execute(text("SELECT pg_sleep(0.5)"))
    ticker.kill()
print(ticks)
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_slow_query_lets_other_greenlets_run(database_url, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "DEVTONE_INSTANCE_PATH": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Blocking, the ticker would get no turn during the half-second query; cooperative,
    # it ticks about fifty times. Ten is far from both.
    assert int(result.stdout.strip()) >= 10

"""Fault drills: live gunicorn servers on PostgreSQL and Redis, something broken the way
production breaks it, posting and reading all the way through.

Each drill ends with `Drill.finish`: everything acknowledged is stored and reaches an SSE
stream and a long-poll reader once, in order (0 lost, 0 duplicated, 0 reordered), and the
drill reports its figures, the slowest post among them. Redis is a private redis-server
(frozen with SIGSTOP, stopped with SIGTERM); PostgreSQL is the machine's, frozen through a
relay (tests/servers.py FreezableRelay), never signalled.
"""

import itertools
import json
import os
import signal
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import make_url

from devtone.web.errors import DATABASE_RETRY_AFTER
from tests.live.drill import Drill, milliseconds, percentile
from tests.servers import FreezableRelay

pytestmark = [
    pytest.mark.live,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def report(request, capsys):
    """Print a drill's figures under its name, even without -s."""

    def report(figures: dict) -> None:
        with capsys.disabled():
            print(f"\n  {request.node.name}: {json.dumps(figures)}")

    return report


@pytest.fixture
def frozen_database(app):
    """A relay to the test's PostgreSQL that a drill can freeze; `.url` goes through it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    relay = FreezableRelay(url.host or "127.0.0.1", url.port or 5432)
    relay.url = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    yield relay
    relay.close()


def timed(call):
    """`call()`'s result and how many seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# -- Redis -------------------------------------------------------------------------------

#: The issue's figure: long enough for the listener to declare its connection dead (PING
#: after 5 s of silence, 5 s for the PONG) and for the publish breaker to open and probe.
REDIS_FROZEN_FOR = 15.0


def test_a_frozen_redis_never_makes_a_post_wait_and_loses_nothing(
    app, live_server, visitor, redis_server, report
):
    server = live_server(REDIS_URL=redis_server.url)
    drill = Drill(visitor, server.url).start()
    redis_server.freeze()
    frozen_at = time.monotonic()
    try:
        time.sleep(REDIS_FROZEN_FOR - 3)
        ready, ready_seconds = timed(lambda: requests.get(f"{server.url}/readyz", timeout=10))
        time.sleep(max(0.0, frozen_at + REDIS_FROZEN_FOR - time.monotonic()))
    finally:
        thawed_at = time.monotonic()
        redis_server.thaw()
    frozen = [a.seconds for a in drill.poster.during(frozen_at, thawed_at)]
    figures = drill.finish(app)
    figures["frozen"] = {
        "posts": len(frozen),
        "median_ms": milliseconds(statistics.median(frozen)),
        "p99_ms": milliseconds(percentile(frozen, 0.99)),
        "readyz_ms": milliseconds(ready_seconds),
    }
    report(figures)
    # The bounds, while Redis answers nothing at all.
    assert statistics.median(frozen) < 0.1
    assert percentile(frozen, 0.99) < 0.5
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready_seconds < 2


#: The issue says 40 s. What matters is that the listener's reconnect backoff reaches its
#: 5 s cap (0.1 s doubling: about 6 s) and the streams repair for many heartbeats
#: meanwhile; 10 s does both, and 30 s more would only make the suite slower.
REDIS_DOWN_FOR = 10.0


def test_redis_shut_down_for_a_while_loses_nothing_across_two_processes(
    app, live_server, visitor, redis_server, report
):
    env = {"REDIS_URL": redis_server.url}
    servers = [live_server(**env), live_server(**env)]
    # Posts go to both processes in turn; the readers sit on the second, so half of what
    # they get crossed Redis, or the repair from the database when Redis was away.
    turns = itertools.cycle(s.url for s in servers)
    drill = Drill(visitor, post=lambda: next(turns), sse=servers[1].url).start()
    redis_server.stop()
    try:
        ready = requests.get(f"{servers[0].url}/readyz", timeout=10)
        time.sleep(REDIS_DOWN_FOR)
    finally:
        redis_server.start()
    drill.poster.wait_for(len(drill.poster.acknowledged) + 20)
    figures = drill.finish(app)
    report(figures)
    assert ready.json()["status"] == "degraded"
    assert requests.get(f"{servers[0].url}/readyz", timeout=10).json()["status"] == "ok"


# -- PostgreSQL --------------------------------------------------------------------------

#: Long enough for the first waits to run out (statement timeout 2 s + 1 s) and for the
#: fail-fast pauses to come round a few times.
DATABASE_FROZEN_FOR = 8.0
#: The longest wait on a silent server is 3 s by default (statement timeout 2 s + 1 s);
#: after one ran out, waits fail at once, so no request waits out the 10 s pool timeout.
DATABASE_503_WITHIN = 3.5


def test_a_frozen_database_answers_503_fast_and_loses_nothing_once_thawed(
    app, live_server, visitor, start_visitor, frozen_database, report
):
    server = live_server(DATABASE_URL=frozen_database.url)
    crowd = start_visitor("Grace")  # more posters than pooled connections, on its own log
    drill = Drill(visitor, server.url).start()

    def crowd_post(n: int) -> requests.Response:
        return requests.post(
            f"{server.url}/api/conversations/{crowd.id}/messages",
            json={"body": f"c{n}", "client_id": str(uuid.uuid4())},
            headers=crowd.headers,
            timeout=30,
        )

    frozen_database.freeze()
    frozen_at = time.monotonic()
    probes = []
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            rush = pool.map(lambda n: timed(lambda: crowd_post(n)), range(20))
            while time.monotonic() < frozen_at + DATABASE_FROZEN_FOR:
                probes.append(timed(lambda: requests.get(f"{server.url}/readyz", timeout=10)))
                time.sleep(0.5)
            rush = list(rush)
    finally:
        thawed_at = time.monotonic()
        frozen_database.thaw()
    refused = drill.poster.during(frozen_at, thawed_at)
    figures = drill.finish(app)
    figures["frozen"] = {
        "posts": len(refused),
        "post_longest_ms": milliseconds(max(a.seconds for a in refused)),
        "rush_longest_ms": milliseconds(max(seconds for _, seconds in rush)),
        "readyz_longest_ms": milliseconds(max(seconds for _, seconds in probes)),
    }
    report(figures)

    answers = [(a.status, a.body, a.retry_after, a.seconds) for a in refused] + [
        (r.status_code, r.json(), r.headers.get("Retry-After"), seconds) for r, seconds in rush
    ]
    for status, body, retry_after, seconds in answers:
        assert status == 503
        assert body == {
            "error": {
                "code": "database_unavailable",
                "message": body["error"]["message"],
                "field": None,
            }
        }
        assert retry_after == str(DATABASE_RETRY_AFTER)
        assert seconds < DATABASE_503_WITHIN
    for answer, seconds in probes:
        assert answer.status_code == 503 and answer.json()["database"] == "unavailable"
        assert seconds < 2
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200


# -- processes ----------------------------------------------------------------------------


def test_a_worker_killed_mid_stream_loses_nothing_and_its_stream_resumes_elsewhere(
    app, live_server, visitor, report
):
    server = live_server(DEVTONE_WORKERS="2")
    drill = Drill(visitor, server.url).start()
    victim = server.worker_serving(drill.sse.port)
    reconnects = drill.sse.reconnects
    os.kill(victim, signal.SIGKILL)  # a worker of the gunicorn this test started
    drill.poster.wait_for(len(drill.poster.acknowledged) + 50)
    figures = drill.finish(app)
    report(figures)
    assert drill.sse.reconnects > reconnects
    assert victim not in server.workers()


def test_the_master_replaced_on_the_same_socket_loses_nothing(app, live_server, visitor, report):
    server = live_server()
    drill = Drill(visitor, server.url).start()
    server.stop()  # SIGTERM: streams end cleanly; new connections wait in the backlog
    server.start()
    drill.poster.wait_for(len(drill.poster.acknowledged) + 50)
    figures = drill.finish(app)
    report(figures)
    assert drill.sse.reconnects >= 1

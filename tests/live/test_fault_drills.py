"""Fault drills: live gunicorn servers on PostgreSQL and Redis, something broken the way
production breaks it, posting and reading all the way through.

Each drill ends with `Drill.finish`: everything acknowledged is stored and reaches an SSE
stream and a long-poll reader once, in order (0 lost, 0 duplicated, 0 reordered), and the
drill reports its figures, the slowest post among them. Redis is a private redis-server
(frozen with SIGSTOP).
"""

import json
import statistics
import time

import pytest
import requests

from tests.live.drill import Drill, milliseconds, percentile

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

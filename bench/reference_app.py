"""The reference peer: the minimal app a Flask developer would write with `flask-sse`.

    gunicorn -k gevent -w 1 bench.reference_app:app   (BENCH_REDIS_URL=redis://…)

- `GET /stream?channel=c` is flask-sse's own blueprint, untouched: one Redis pub/sub
  connection per open stream, nothing sent until the first event.
- `POST /publish` `{channel, message}` publishes through `sse.publish(...)` as the event
  `message` with the next id of that channel, and answers 201 `{"id": n}`. Ids are given
  out under a per-channel lock held until Redis has the message, so the reference, like
  devtone, assigns each channel's order itself (otherwise a bench-assigned id could be
  overtaken between two publishes and count as out of order against the library).
- `GET /healthz` answers 200 once the worker is up.

Nothing is stored: this is the "just pub/sub" baseline devtone is measured against.
"""

from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402 - after monkey-patching
import os  # noqa: E402
import threading  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_sse import sse  # noqa: E402

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
app.register_blueprint(sse, url_prefix="/stream")

_counters: defaultdict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


@app.post("/publish")
def publish() -> tuple[dict[str, Any], int]:
    """Publish `message` on `channel` as the channel's next event id."""
    payload = request.get_json(force=True)
    channel = str(payload["channel"])
    message = payload.get("message") or {}
    with _locks[channel]:
        event_id = next(_counters[channel])
        message["seq"] = event_id
        sse.publish(message, type="message", id=event_id, channel=channel)
    return {"id": event_id}, 201


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive."""
    return {"status": "ok"}

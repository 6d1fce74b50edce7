"""The monitor's last ten minutes: one point every few seconds, kept by this process.

A sampler thread (a greenlet under gevent), started by the first look at the monitor,
reads the metrics every `step` seconds (every worker's, in multiprocess mode; never the
database) and keeps the points of the last `span` seconds. A point holds the open
streams by tier at that moment, and what happened since the point before: deliveries
per second by tier and the commit-to-write latency's median and 99th percentile, from
the counters' and the histogram's deltas. A page opened now draws the whole history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devtone import metrics

log = logging.getLogger(__name__)

#: Seconds between two points, and how far back the history goes (120 points).
STEP = 5.0
SPAN = 600.0

_TIERS = ("sse", "longpoll")
_KIND = {"kind": "conversation"}
_LATENCY = "devtone_commit_to_write_seconds"


@dataclass(frozen=True)
class Reading:
    """The figures a point is made of, as read at `at` (seconds since the epoch)."""

    at: float
    open: dict[str, int]
    delivered: dict[str, float]
    #: The latency histogram summed over tiers: (upper bound in s, cumulative count).
    buckets: tuple[tuple[float, float], ...]


def read(found: dict[str, Any], at: float) -> Reading:
    """The reading of `found` (as `metrics.samples()` returns it) at `at`."""
    summed: dict[float, float] = {}
    for labels, value in found.get(f"{_LATENCY}_bucket", []):
        bound = float(labels["le"])
        summed[bound] = summed.get(bound, 0.0) + value
    return Reading(
        at=at,
        open={
            t: round(metrics.total(found, "devtone_open_streams", tier=t, **_KIND)) for t in _TIERS
        },
        delivered={
            t: metrics.total(found, "devtone_entries_delivered_total", tier=t, **_KIND)
            for t in _TIERS
        },
        buckets=tuple(sorted(summed.items())),
    )


def point(before: Reading | None, now: Reading) -> dict[str, Any]:
    """One point of the history: `now`'s open streams, and the rates since `before`."""
    rates: dict[str, float] | None = None
    latency: dict[str, float | None] = {"p50": None, "p99": None}
    if before is not None and now.at > before.at:
        seconds = now.at - before.at
        rates = {
            t: round(_increase(before.delivered[t], now.delivered[t]) / seconds, 2) for t in _TIERS
        }
        buckets = _bucket_increase(before.buckets, now.buckets)
        latency = {"p50": quantile_ms(buckets, 0.5), "p99": quantile_ms(buckets, 0.99)}
    at = datetime.fromtimestamp(now.at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"at": at, "open_streams": now.open, "deliveries_per_s": rates, "latency_ms": latency}


def quantile_ms(buckets: tuple[tuple[float, float], ...], q: float) -> float | None:
    """The `q` quantile of cumulative `buckets`, in ms, interpolated inside its bucket.

    Prometheus's `histogram_quantile` estimate: None without observations, and the last
    finite bound when the quantile lies past it.
    """
    count = buckets[-1][1] if buckets else 0.0
    if count <= 0:
        return None
    rank = q * count
    lower, below = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if bound == float("inf"):
                return round(lower * 1000, 1)
            inside = cumulative - below
            share = (rank - below) / inside if inside else 1.0
            return round((lower + (bound - lower) * share) * 1000, 1)
        lower, below = bound, cumulative
    return round(lower * 1000, 1)


def _increase(before: float, now: float) -> float:
    # A counter that went down was reset (a worker restarted and its files went with
    # it): what it counts now is all that is known to have happened since.
    return now - before if now >= before else now


def _bucket_increase(
    before: tuple[tuple[float, float], ...], now: tuple[tuple[float, float], ...]
) -> tuple[tuple[float, float], ...]:
    earlier = dict(before)
    if any(cumulative < earlier.get(bound, 0.0) for bound, cumulative in now):
        return now  # reset: the whole histogram is what happened since
    return tuple((bound, cumulative - earlier.get(bound, 0.0)) for bound, cumulative in now)


class MonitorHistory:
    """The points of the last `span` seconds, one every `step` seconds, for this process."""

    def __init__(
        self,
        sample: Callable[[], dict[str, Any]] = metrics.samples,
        clock: Callable[[], float] = time.time,
        step: float = STEP,
        span: float = SPAN,
    ):
        self.step = step
        self.span = span
        self._sample = sample
        self._clock = clock
        self._lock = threading.Lock()
        self._points: deque[tuple[float, dict[str, Any]]] = deque(maxlen=int(span // step))
        self._last: Reading | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> None:
        """Read the metrics now and add their point, forgetting those past the span."""
        now = read(self._sample(), self._clock())
        with self._lock:
            self._points.append((now.at, point(self._last, now)))
            self._last = now
            while self._points and self._points[0][0] <= now.at - self.span:
                self._points.popleft()

    def points(self) -> list[dict[str, Any]]:
        """The points of the last span, oldest first."""
        with self._lock:
            return [taken for _, taken in self._points]

    def start(self) -> None:
        """Take a point now and one every step from now on; only the first call does."""
        # Lazily, with the monitor's feed: the app factory starts no thread or greenlet.
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="devtone-monitor", daemon=True)
        self.take()  # the first page sees a point at once
        self._thread.start()

    def close(self) -> None:
        """Stop sampling (the thread ends at its next wake-up)."""
        self._stop.set()

    def _run(self) -> None:
        # Under gevent's monkey-patching this thread is a greenlet.
        while not self._stop.wait(self.step):
            try:
                self.take()
            except Exception:  # a broken metrics file must not end the history for good
                log.exception("monitor history sample failed; retrying next step")

"""The monitor's history: a point per step, rates from the counters' deltas, ten minutes kept.

The metrics are prometheus-client's own types in a registry of the test's, read the way
devtone.metrics.samples() reads them; the clock is the test's: nothing here sleeps.
"""

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from devtone.feeds.monitor_history import SPAN, STEP, MonitorHistory

#: devtone.metrics' latency buckets, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Worker:
    """One worker's metrics, named and labelled as devtone.metrics names them."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.open = Gauge("devtone_open_streams", "", ["kind", "tier"], registry=self.registry)
        self.delivered = Counter(
            "devtone_entries_delivered", "", ["kind", "tier"], registry=self.registry
        )
        self.latency = Histogram(
            "devtone_commit_to_write_seconds",
            "",
            ["tier"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def deliver(self, tier, count, seconds=0.002):
        self.delivered.labels("conversation", tier).inc(count)
        for _ in range(count):
            self.latency.labels(tier).observe(seconds)

    def samples(self):
        found = {}
        for family in self.registry.collect():
            for sample in family.samples:
                found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
        return found


class Clock:
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Server:
    """What the history reads: the metrics of a worker that may restart."""

    def __init__(self):
        self.worker = Worker()

    def samples(self):
        return self.worker.samples()

    def restart(self):
        self.worker = Worker()
        return self.worker


@pytest.fixture
def server():
    return Server()


@pytest.fixture
def worker(server):
    return server.worker


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def history(server, clock):
    history = MonitorHistory(sample=server.samples, clock=clock)
    yield history
    history.close()


def test_a_point_holds_the_open_streams_and_the_deliveries_per_second_since_the_last(
    history, worker, clock
):
    worker.open.labels("conversation", "sse").set(3)
    worker.open.labels("conversation", "longpoll").set(1)
    worker.open.labels("dashboard", "sse").set(7)  # agents' dashboards: not conversations
    worker.deliver("sse", 4)
    history.take()

    clock.advance(STEP)
    worker.deliver("sse", 10)
    worker.deliver("longpoll", 2)
    worker.delivered.labels("dashboard", "sse").inc(50)
    worker.open.labels("conversation", "sse").set(2)
    history.take()

    first, second = history.points()
    assert first["at"] == "2027-01-15T08:00:00Z"
    assert first["open_streams"] == {"sse": 3, "longpoll": 1}
    assert first["deliveries_per_s"] is None  # nothing to measure a rate from yet
    assert second["at"] == "2027-01-15T08:00:05Z"
    assert second["open_streams"] == {"sse": 2, "longpoll": 1}
    assert second["deliveries_per_s"] == {"sse": 2.0, "longpoll": 0.4}


def test_the_latency_is_the_median_and_99th_percentile_of_the_entries_since_the_last_point(
    history, worker, clock
):
    worker.deliver("sse", 500, seconds=3.0)  # before the first point: not this point's
    history.take()
    clock.advance(STEP)
    worker.deliver("sse", 60, seconds=0.002)
    worker.deliver("longpoll", 38, seconds=0.002)  # both tiers are one histogram here
    worker.deliver("longpoll", 2, seconds=0.4)
    history.take()
    clock.advance(STEP)
    history.take()  # nothing delivered: no latency to show

    _, busy, quiet = history.points()
    # Interpolated inside the bucket that holds it, as Prometheus's histogram_quantile:
    # 50 of 98 in (1, 2.5] ms, and the 99th of 100 halfway into (250, 500] ms.
    assert busy["latency_ms"] == {"p50": 1.8, "p99": 375.0}
    assert quiet["latency_ms"] == {"p50": None, "p99": None}
    assert quiet["deliveries_per_s"] == {"sse": 0.0, "longpoll": 0.0}


def test_a_latency_past_the_last_bucket_reads_as_the_last_bound(history, worker, clock):
    history.take()
    clock.advance(STEP)
    worker.deliver("sse", 10, seconds=30.0)
    history.take()
    assert history.points()[-1]["latency_ms"] == {"p50": 5000.0, "p99": 5000.0}


def test_the_history_keeps_the_last_ten_minutes_only(history, worker, clock):
    for _ in range(200):
        worker.deliver("sse", 1)
        history.take()
        clock.advance(STEP)
    points = history.points()
    assert len(points) == SPAN / STEP == 120
    assert points[0]["at"] < points[-1]["at"]
    assert [p["deliveries_per_s"]["sse"] for p in points] == [0.2] * 120

    clock.advance(20 * 60)  # the sampler was starved for twenty minutes
    history.take()
    assert len(history.points()) == 1  # what came before is older than ten minutes


def test_a_counter_that_went_down_was_reset_and_counts_from_zero(history, server, worker, clock):
    worker.deliver("sse", 100, seconds=0.4)
    history.take()
    clock.advance(STEP)
    # The worker restarted: its counters start again from nothing (in multiprocess mode,
    # gunicorn's child_exit removed the dead worker's files and the totals went down).
    server.restart().deliver("sse", 3, seconds=0.002)
    history.take()

    after_restart = history.points()[-1]
    assert after_restart["deliveries_per_s"] == {"sse": 0.6, "longpoll": 0.0}
    assert after_restart["latency_ms"]["p50"] == pytest.approx(1.8, abs=0.1)
    assert after_restart["latency_ms"]["p99"] <= 2.5


def test_a_clock_that_went_back_gives_a_point_without_rates(history, worker, clock):
    history.take()
    clock.advance(-STEP)
    worker.deliver("sse", 5)
    history.take()
    assert history.points()[-1]["deliveries_per_s"] is None


def test_the_history_takes_its_first_point_when_started_and_once_only(history):
    assert history.points() == []
    history.start()
    assert len(history.points()) == 1  # the first page sees a point at once
    history.start()
    assert len(history.points()) == 1


def test_a_closed_history_starts_no_sampler(history):
    history.close()  # the server is shutting down
    history.start()
    assert history.points() == []

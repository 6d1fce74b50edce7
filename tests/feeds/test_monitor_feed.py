"""The monitor's snapshot carries its history, and a new point changes its etag."""

import pytest

from devtone.feeds import monitor_history_of
from devtone.feeds.monitor import take_snapshot
from devtone.feeds.monitor_history import SPAN, STEP, MonitorHistory


class Clock:
    now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def history():
    clock = Clock()
    history = MonitorHistory(sample=dict, clock=clock)  # no metrics: zeros everywhere
    history.clock = clock
    yield history
    history.close()


def test_the_snapshot_carries_the_last_ten_minutes_from_the_first_look(app, sign_in, admin):
    assert monitor_history_of(app).points() == []  # nothing sampled before anyone looks
    answer = sign_in(admin).get("/api/monitor/snapshot")
    assert answer.status_code == 200
    history = answer.json["history"]
    assert (history["step_s"], history["span_s"]) == (STEP, SPAN)
    (first,) = history["points"]
    assert first["open_streams"] == {"sse": 0, "longpoll": 0}
    assert first["deliveries_per_s"] is None


def test_a_new_point_of_the_history_changes_the_etag_though_no_figure_did(app, history):
    """Both tiers send a snapshot when its etag changed: without this, a chart on long-poll
    would freeze while the figures stand still."""
    with app.app_context():
        held = take_snapshot(history)
        assert take_snapshot(history)["etag"] == held["etag"]  # nothing new yet
        history.clock.now += STEP
        history.take()  # the sampler's next point
        now = take_snapshot(history)
    assert (now["figures"], now["events"]) == (held["figures"], held["events"])
    assert len(now["history"]["points"]) == 2
    assert now["etag"] != held["etag"]

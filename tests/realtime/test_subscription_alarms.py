"""A waiting subscription keeps no timer of its own: the process's alarms wake it."""

import threading
from types import SimpleNamespace

import pytest

from devtone.realtime import alarms
from devtone.realtime import broker as broker_module
from devtone.realtime.broker import MemoryBroker


@pytest.fixture
def broker():
    return MemoryBroker()


class PublishingWake(threading.Event):
    """A subscription's wake-up whose wait sees `publish()` happen, as another greenlet's
    post would; and that fails if the wait brings a timeout of its own."""

    def __init__(self, publish):
        super().__init__()
        self.publish = publish

    def wait(self, timeout=None):
        assert timeout is None, "a get waits on the process's alarms, not a timer of its own"
        self.publish()
        return True


def test_the_waits_between_two_heartbeats_share_one_alarm(broker, monkeypatch):
    # The broker's clock stands still: each get computes the same deadline.
    monkeypatch.setattr(broker_module, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    set_for = []
    monkeypatch.setattr(alarms.Alarms, "set", lambda self, at, sleeper: set_for.append(at))
    subscription = broker.subscribe(["news"])
    published = iter(range(3))
    subscription._wake = PublishingWake(lambda: broker.publish("news", {"n": next(published)}))
    next_beat = 1015.0
    assert [subscription.get(timeout=next_beat - 1000.0)["n"] for _ in range(3)] == [0, 1, 2]
    assert set_for == [1015.0]  # one alarm for the three waits, at the heartbeat
    subscription.close()


def test_a_wait_that_times_out_is_rung_by_the_process_alarms(broker):
    subscription = broker.subscribe(["news"])
    assert subscription.get(timeout=0.05) is None
    assert subscription.get(timeout=0.05) is None
    subscription.close()

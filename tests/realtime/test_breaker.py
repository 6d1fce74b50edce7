"""The circuit breaker: closed until failures pile up, open for a pause, one probe after
it, a longer pause after a failed probe, closed again by a success."""

import pytest

from devtone.realtime.breaker import Breaker


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def opened():
    """The pauses the breaker reported, one per opening."""
    return []


@pytest.fixture
def breaker(clock, opened):
    return Breaker(threshold=3, pause=1.0, pause_cap=4.0, on_open=opened.append, clock=clock)


def test_a_new_breaker_lets_every_call_through(breaker):
    assert breaker.is_closed and not breaker.is_open
    assert all(breaker.allows() for _ in range(10))


def test_failures_below_the_threshold_or_broken_by_a_success_keep_it_closed(breaker):
    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    breaker.failed()
    assert breaker.allows() and not breaker.is_open


def test_the_threshold_of_failures_in_a_row_opens_it_for_the_pause(breaker, clock, opened):
    for _ in range(3):
        breaker.failed()
    assert breaker.is_open and opened == [1.0]
    assert not breaker.allows()
    clock.now += 0.99
    assert not breaker.allows()


def test_after_the_pause_one_caller_probes_and_the_others_still_skip(breaker, clock):
    for _ in range(3):
        breaker.failed()
    clock.now += 1.0
    assert not breaker.is_open  # queueing may resume: the next call is the probe
    assert breaker.allows()
    assert not breaker.allows()
    assert breaker.is_open


def test_a_failed_probe_doubles_the_pause_up_to_the_cap(breaker, clock, opened):
    for _ in range(3):
        breaker.failed()
    for _ in range(4):
        clock.now += opened[-1]
        assert breaker.allows()
        breaker.failed()
    assert opened == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_successful_probe_closes_it_and_resets_the_pause(breaker, clock, opened):
    for _ in range(3):
        breaker.failed()
    clock.now += 1.0
    breaker.allows()
    breaker.failed()
    clock.now += 2.0
    assert breaker.allows()
    breaker.succeeded()
    assert breaker.is_closed and breaker.allows()
    for _ in range(3):
        breaker.failed()
    assert opened[-1] == 1.0
    assert breaker.opened == 3

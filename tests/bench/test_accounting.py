"""The benchmark's accounting: every kind of fault is counted, percentiles are right.

No test here asserts a speed: speed lives in the benchmark (`make bench`).
"""

import math

import pytest

from bench.accounting import Latency, Ledger, percentile


def ledger_with(subscribers: dict[str, str], sent: dict[str, list[int]]) -> Ledger:
    """A ledger whose message `k` on each channel was sent at time k (seconds)."""
    ledger = Ledger()
    for subscriber, channel in subscribers.items():
        ledger.subscribe(subscriber, channel)
    for channel, keys in sent.items():
        for key in keys:
            ledger.sent(channel, key, t_sent=float(key))
    return ledger


def read_all(ledger: Ledger, subscriber: str, keys: list[int], delay: float = 0.005) -> None:
    for key in keys:
        ledger.record(subscriber, key, t_read=key + delay)


def test_a_clean_run_has_no_fault_and_every_pair_delivered():
    ledger = ledger_with({"a": "c1", "b": "c1"}, {"c1": [1, 2, 3]})
    read_all(ledger, "a", [1, 2, 3])
    read_all(ledger, "b", [1, 2, 3])

    summary = ledger.summary()

    assert summary.subscribers == 2
    assert summary.messages == 3
    assert summary.expected == 6
    assert summary.delivered == 6
    assert (summary.missing, summary.duplicate, summary.out_of_order) == (0, 0, 0)
    assert summary.unexpected == 0
    assert summary.faults == 0
    assert summary.latency.count == 6
    assert summary.latency.p50 == pytest.approx(5.0)


def test_a_dropped_event_is_counted_missing_for_that_subscriber_only():
    ledger = ledger_with({"a": "c1", "b": "c1"}, {"c1": [1, 2, 3]})
    read_all(ledger, "a", [1, 3])  # 2 dropped
    read_all(ledger, "b", [1, 2, 3])

    summary = ledger.summary()

    assert summary.missing == 1
    assert summary.delivered == 5
    assert summary.per_subscriber_missing == {"a": 1}
    assert (summary.duplicate, summary.out_of_order) == (0, 0)
    assert ledger.outstanding() == 1


def test_a_duplicated_event_is_counted_once_as_duplicate_and_not_as_reordered():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2, 3]})
    read_all(ledger, "a", [1, 2, 2, 3])

    summary = ledger.summary()

    assert summary.duplicate == 1
    assert summary.out_of_order == 0
    assert summary.missing == 0
    assert summary.latency.count == 3  # the first read of each pair only


def test_a_late_duplicate_of_an_older_event_is_a_duplicate_not_out_of_order():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2, 3]})
    read_all(ledger, "a", [1, 2, 3, 1])

    summary = ledger.summary()

    assert (summary.duplicate, summary.out_of_order) == (1, 0)


def test_a_reordered_event_is_counted_out_of_order():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2, 3, 4]})
    read_all(ledger, "a", [1, 3, 2, 4])  # 2 arrives after 3

    summary = ledger.summary()

    assert summary.out_of_order == 1
    assert (summary.missing, summary.duplicate) == (0, 0)
    assert summary.delivered == 4


def test_drop_duplicate_and_reorder_together_are_each_counted():
    ledger = ledger_with({"a": "c1", "b": "c2"}, {"c1": [1, 2, 3, 4, 5], "c2": [1, 2]})
    read_all(ledger, "a", [1, 3, 3, 2, 5])  # 4 dropped, 3 twice, 2 after 3
    read_all(ledger, "b", [1, 2])

    summary = ledger.summary()

    assert summary.missing == 1
    assert summary.duplicate == 1
    assert summary.out_of_order == 1
    assert summary.expected == 7
    assert summary.delivered == 6
    assert summary.faults == 3


def test_an_event_never_acknowledged_on_the_channel_is_unexpected():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2], "c2": [3]})
    read_all(ledger, "a", [1, 2, 3, 9])  # 3 belongs to another channel, 9 to nobody

    summary = ledger.summary()

    assert summary.unexpected == 2
    assert summary.faults == 2
    assert summary.delivered == 2


def test_a_read_before_its_post_was_acknowledged_still_counts():
    """The event can come before the POST's answer: reads are resolved at the end."""
    ledger = Ledger()
    ledger.subscribe("a", "c1")
    ledger.record("a", 1, t_read=10.004)
    ledger.sent("c1", 1, t_sent=10.000)

    summary = ledger.summary()

    assert summary.faults == 0
    assert summary.latency.p50 == pytest.approx(4.0)


def test_a_window_judges_only_the_messages_sent_in_it():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2, 3, 4]})
    read_all(ledger, "a", [1, 2, 4])  # 3 missing, but it was sent outside the window

    early = ledger.summary(sent_from=0.0, sent_until=2.5)
    late = ledger.summary(sent_from=2.5)

    assert (early.messages, early.delivered, early.missing) == (2, 2, 0)
    assert (late.messages, late.delivered, late.missing) == (2, 1, 1)
    assert early.unexpected == late.unexpected == 0


def test_the_same_key_acknowledged_twice_on_a_channel_is_a_bug_in_the_caller():
    ledger = ledger_with({"a": "c1"}, {"c1": [1]})
    with pytest.raises(ValueError):
        ledger.sent("c1", 1, 5.0)


def test_the_recorder_is_the_same_as_record():
    ledger = ledger_with({"a": "c1"}, {"c1": [1, 2]})
    record = ledger.recorder("a")
    record(1, 1.5)
    record(2, 2.25)

    summary = ledger.summary()

    assert summary.delivered == 2
    assert summary.latency.max == pytest.approx(500.0)
    assert ledger.reads() == 2
    assert ledger.reads_between(2.0, 3.0) == 1


def test_delivery_rate_runs_from_the_first_post_to_the_last_read():
    ledger = ledger_with({"a": "c1", "b": "c1"}, {"c1": [1, 2, 3]})
    read_all(ledger, "a", [1, 2, 3], delay=1.0)  # last read at 4.0
    read_all(ledger, "b", [1, 2, 3], delay=0.0)

    summary = ledger.summary()

    assert summary.first_sent == 1.0
    assert summary.last_read == 4.0
    assert summary.delivery_rate == pytest.approx(6 / 3.0)


# -- percentiles -------------------------------------------------------------------------


def test_percentiles_interpolate_between_ranks_like_numpy_linear():
    values = [float(v) for v in range(1, 101)]  # 1 … 100

    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 90) == pytest.approx(90.1)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 100) == 100.0


def test_percentiles_of_tiny_samples():
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 3.0], 50) == pytest.approx(2.0)
    assert percentile([1.0, 2.0, 3.0, 4.0], 75) == pytest.approx(3.25)
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary_is_in_milliseconds_from_unsorted_seconds():
    latency = Latency.of([0.004, 0.001, 0.003, 0.002, 0.010])

    assert latency.count == 5
    assert latency.p50 == pytest.approx(3.0)
    assert latency.p90 == pytest.approx(7.6)  # between 4 ms and 10 ms at rank 3.6
    assert latency.max == pytest.approx(10.0)
    assert latency.mean == pytest.approx(4.0)


def test_latency_percentiles_come_from_every_pair_not_per_subscriber_averages():
    ledger = ledger_with({"fast": "c1", "slow": "c1"}, {"c1": list(range(1, 51))})
    read_all(ledger, "fast", list(range(1, 51)), delay=0.001)
    read_all(ledger, "slow", list(range(1, 51)), delay=0.100)

    latency = ledger.summary().latency

    assert latency.count == 100
    assert latency.p50 == pytest.approx(50.5)  # halfway between the two populations
    assert latency.p99 == pytest.approx(100.0)
    assert latency.mean == pytest.approx(50.5)

"""The ledger's first-reader latency: per message, the earliest of its readers."""

import pytest

from bench.accounting import Ledger


def test_each_message_counts_once_at_its_first_reader():
    ledger = Ledger()
    for reader in ("a", "b", "c"):
        ledger.subscribe(reader, "room")
    ledger.sent("room", 1, t_sent=10.0)
    ledger.sent("room", 2, t_sent=20.0)
    ledger.record("a", 1, t_read=10.030)
    ledger.record("b", 1, t_read=10.010)
    ledger.record("c", 1, t_read=10.050)
    ledger.record("c", 2, t_read=20.020)
    ledger.record("a", 2, t_read=20.090)

    first = ledger.first_reads()

    assert first.count == 2
    assert first.max == pytest.approx(20.0)  # ms: message 2 first read by c
    assert first.p50 == pytest.approx(15.0)  # between 10 ms and 20 ms


def test_reads_of_keys_never_acknowledged_are_not_first_reads():
    ledger = Ledger()
    ledger.subscribe("a", "room")
    ledger.sent("room", 1, t_sent=1.0)
    ledger.record("a", 99, t_read=1.5)

    assert ledger.first_reads().count == 0

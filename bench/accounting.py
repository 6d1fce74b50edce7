"""The benchmark's bookkeeping, pure: who should get which message, who got what, and when.

A *channel* is what a message is posted to (a devtone conversation, a Flask-SSE channel);
a *subscriber* is one reader (an SSE stream or a long-poll loop) on one channel. Messages
are named by their *key*, the per-channel sequence number the server assigned (devtone's
`seq`, the reference's event id), so keys also give the order every reader must see.

    ledger = Ledger()
    ledger.subscribe("s1", channel=7)
    ledger.sent(7, key=1, t_sent=10.000)      # the POST for seq 1 was written at 10.000
    ledger.record("s1", key=1, t_read=10.004) # s1 read the event at 10.004
    ledger.summary().latency.p50              # 4.0 ms

Reads are kept as they come (in arrival order per subscriber) and resolved only by
`summary()`, because an event can be read before the POST that caused it has been
answered (the key is known only from the answer). Nothing here reads a clock.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0–100) of sorted values, interpolating linearly between ranks.

    The same definition as numpy's default ("linear"): rank (n - 1) * q / 100. NaN for
    no values.
    """
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    n = len(ordered)
    if n == 0:
        return math.nan
    rank = (n - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, n - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Latency percentiles in milliseconds over every (subscriber, message) pair read."""

    count: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    mean: float

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Latency:
        """Percentiles of latencies given in seconds, reported in milliseconds."""
        ordered = sorted(s * 1000.0 for s in seconds)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
        p50, p90, p99, p999 = (percentile(ordered, q) for q in PERCENTILES)
        return cls(len(ordered), p50, p90, p99, p999, ordered[-1], sum(ordered) / len(ordered))


@dataclass(frozen=True)
class Summary:
    """What a phase delivered: counts of every kind of fault, and the latencies."""

    subscribers: int
    messages: int  # acknowledged by the server (stored), in the window
    expected: int  # (subscriber, message) pairs that should be read
    delivered: int  # expected pairs read at least once
    missing: int  # expected pairs never read
    duplicate: int  # reads of a pair already read
    out_of_order: int  # first reads of a key lower than one the subscriber already read
    unexpected: int  # reads of a key never acknowledged on the subscriber's channel
    latency: Latency
    first_sent: float | None = None
    last_read: float | None = None
    per_subscriber_missing: dict[str, int] = field(default_factory=dict)

    @property
    def faults(self) -> int:
        """Missing + duplicate + out of order + unexpected: zero in a clean run."""
        return self.missing + self.duplicate + self.out_of_order + self.unexpected

    @property
    def delivery_rate(self) -> float:
        """Deliveries per second from the first POST sent to the last event read."""
        if self.first_sent is None or self.last_read is None or self.last_read <= self.first_sent:
            return 0.0
        return self.delivered / (self.last_read - self.first_sent)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the per-subscriber detail is left out)."""
        data = asdict(self)
        data.pop("per_subscriber_missing")
        data["faults"] = self.faults
        data["delivery_rate"] = self.delivery_rate
        return data


class Ledger:
    """Expected and observed deliveries of one benchmark phase."""

    def __init__(self) -> None:
        self._channel_of: dict[Hashable, Hashable] = {}
        self._sent: dict[Hashable, dict[int, float]] = {}
        self._keys: dict[Hashable, array] = {}
        self._times: dict[Hashable, array] = {}

    # -- the phase feeds these ---------------------------------------------------------

    def subscribe(self, subscriber: Hashable, channel: Hashable) -> None:
        """Declare a reader of `channel`: it must read every message acknowledged there."""
        if subscriber in self._channel_of:
            raise ValueError(f"subscriber {subscriber!r} is already declared")
        self._channel_of[subscriber] = channel
        self._sent.setdefault(channel, {})
        self._keys[subscriber] = array("q")
        self._times[subscriber] = array("d")

    def sent(self, channel: Hashable, key: int, t_sent: float) -> None:
        """A message the server acknowledged on `channel` as `key`; its POST left at `t_sent`."""
        sent = self._sent.setdefault(channel, {})
        if key in sent:
            raise ValueError(f"key {key} acknowledged twice on channel {channel!r}")
        sent[key] = t_sent

    def record(self, subscriber: Hashable, key: int, t_read: float) -> None:
        """`subscriber` read the event `key` at `t_read`."""
        self._keys[subscriber].append(key)
        self._times[subscriber].append(t_read)

    def recorder(self, subscriber: Hashable) -> Callable[[int, float], None]:
        """A fast `record` bound to one subscriber (called once per event read)."""
        keys, times = self._keys[subscriber], self._times[subscriber]

        def record(key: int, t_read: float) -> None:
            keys.append(key)
            times.append(t_read)

        return record

    # -- questions ---------------------------------------------------------------------

    @property
    def subscribers(self) -> list[Hashable]:
        """Every declared subscriber."""
        return list(self._channel_of)

    def acknowledged(self) -> int:
        """How many messages the server acknowledged, on every channel."""
        return sum(len(sent) for sent in self._sent.values())

    def reads(self) -> int:
        """How many events were read in all, faults included."""
        return sum(len(keys) for keys in self._keys.values())

    def expected_pairs(self) -> int:
        """(subscriber, message) pairs that should be read, over every acknowledged message."""
        return sum(len(self._sent[channel]) for channel in self._channel_of.values())

    def outstanding(self) -> int:
        """Expected pairs not read yet; cheap while fewer events were read than expected."""
        shortfall = self.expected_pairs() - self.reads()
        if shortfall > 0:
            return shortfall  # a lower bound: enough to know the phase must still drain
        missing = 0
        for subscriber, channel in self._channel_of.items():
            sent = self._sent[channel]
            if not sent:
                continue
            seen = set(self._keys[subscriber])
            missing += sum(1 for key in sent if key not in seen)
        return missing

    def reads_between(self, start: float, end: float) -> int:
        """Events read with `start` <= t_read < `end` (throughput over a window)."""
        return sum(1 for times in self._times.values() for t in times if start <= t < end)

    def first_reads(self) -> Latency:
        """Per message, the time until its *first* reader had it (a broadcast's best case).

        Over every acknowledged message some subscriber read; the others are `missing`
        in `summary()`.
        """
        first: dict[tuple[Hashable, int], float] = {}
        for subscriber, channel in self._channel_of.items():
            sent = self._sent[channel]
            for key, t_read in zip(self._keys[subscriber], self._times[subscriber], strict=True):
                if key in sent:
                    seen = first.get((channel, key))
                    if seen is None or t_read < seen:
                        first[(channel, key)] = t_read
        return Latency.of(t - self._sent[channel][key] for (channel, key), t in first.items())

    def summary(self, sent_from: float = -math.inf, sent_until: float = math.inf) -> Summary:
        """Resolve every read; only messages sent in [sent_from, sent_until) are judged.

        Reads of keys acknowledged outside the window are ignored (they belong to
        another window); reads of keys never acknowledged count as unexpected.
        """
        latencies: list[float] = []
        totals = dict(expected=0, delivered=0, missing=0, duplicate=0, out_of_order=0)
        unexpected = 0
        messages = 0
        first_sent: float | None = None
        last_read: float | None = None
        per_subscriber_missing: dict[str, int] = {}
        window: dict[Hashable, dict[int, float]] = {}
        for channel, sent in self._sent.items():
            window[channel] = {k: t for k, t in sent.items() if sent_from <= t < sent_until}
            messages += len(window[channel])
            if window[channel]:
                earliest = min(window[channel].values())
                first_sent = earliest if first_sent is None else min(first_sent, earliest)
        for subscriber, channel in self._channel_of.items():
            counts, lat, strays, last = _judge(
                self._keys[subscriber],
                self._times[subscriber],
                window[channel],
                self._sent[channel],
            )
            for name, value in counts.items():
                totals[name] += value
            unexpected += strays
            latencies.extend(lat)
            if last is not None:
                last_read = last if last_read is None else max(last_read, last)
            if counts["missing"]:
                per_subscriber_missing[str(subscriber)] = counts["missing"]
        return Summary(
            subscribers=len(self._channel_of),
            messages=messages,
            unexpected=unexpected,
            latency=Latency.of(latencies),
            first_sent=first_sent,
            last_read=last_read,
            per_subscriber_missing=per_subscriber_missing,
            **totals,
        )


def _judge(
    keys: Sequence[int],
    times: Sequence[float],
    window: dict[int, float],
    acknowledged: dict[int, float],
) -> tuple[dict[str, int], list[float], int, float | None]:
    """One subscriber's reads against its channel: counts, latencies, strays, last read."""
    seen: set[int] = set()
    highest = -math.inf
    duplicate = out_of_order = unexpected = 0
    latencies: list[float] = []
    last_read: float | None = None
    for key, t_read in zip(keys, times, strict=True):
        if key not in acknowledged:
            unexpected += 1
            continue
        if key in seen:
            if key in window:
                duplicate += 1
            continue
        seen.add(key)
        if key < highest and key in window:
            out_of_order += 1
        highest = max(highest, key)
        if key in window:
            latencies.append(t_read - window[key])
            last_read = t_read if last_read is None else max(last_read, t_read)
    delivered = sum(1 for key in window if key in seen)
    counts = {
        "expected": len(window),
        "delivered": delivered,
        "missing": len(window) - delivered,
        "duplicate": duplicate,
        "out_of_order": out_of_order,
    }
    return counts, latencies, unexpected, last_read

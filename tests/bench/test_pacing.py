"""The few-publishers load: a plan at a rate, and never two posts in flight on one conversation.

No test here asserts a speed: the plan is checked as numbers, the dispatch by counting.
"""

import asyncio
import random

import pytest

from bench.adapters import Adapter, Channel
from bench.client import HttpConnection
from bench.pacing import PacedPosters, Pacer, post_times


def conversation(key: str) -> Channel:
    return Channel(key=key, id=key)


def test_the_plan_spaces_rate_times_seconds_posts_evenly_inside_the_window():
    times = post_times(500, 2.0)

    assert len(times) == 1000
    assert times[0] == 0
    assert all(b - a == pytest.approx(1 / 500) for a, b in zip(times, times[1:], strict=False))
    assert times[-1] < 2.0


def test_a_window_too_short_for_one_post_still_plans_one_and_no_rate_plans_none():
    assert post_times(10, 0.01) == [0.0]
    assert post_times(0, 5) == []


def test_a_conversations_next_message_waits_for_the_previous_answer():
    pacer = Pacer()
    a, b = conversation("a"), conversation("b")
    pacer.due(a, 0.0)
    pacer.due(a, 0.1)
    pacer.due(b, 0.2)

    assert pacer.take() == (a, 0.0)
    assert pacer.take() == (b, 0.2)  # a's second message is held back
    assert pacer.take() is None

    pacer.done(a)

    assert pacer.take() == (a, 0.1)
    assert pacer.in_flight == 2


def test_messages_still_waiting_when_the_window_ends_are_dropped_and_counted():
    pacer = Pacer()
    a = conversation("a")
    for at in (0.0, 0.1, 0.2):
        pacer.due(a, at)
    pacer.take()

    assert pacer.drop_waiting() == 2
    pacer.done(a)
    assert pacer.take() is None


def test_under_any_interleaving_one_conversation_never_has_two_posts_in_flight():
    pacer = Pacer()
    rng = random.Random(7)
    channels = [conversation(str(i)) for i in range(5)]
    in_flight: list[Channel] = []
    handed: dict[str, list[float]] = {c.key: [] for c in channels}
    due = 0
    for step in range(2_000):
        action = rng.random()
        if action < 0.4 and due < 600:
            pacer.due(rng.choice(channels), float(step))
            due += 1
        elif action < 0.7 and in_flight:
            pacer.done(in_flight.pop(rng.randrange(len(in_flight))))
        elif (item := pacer.take()) is not None:
            channel, at = item
            assert channel.key not in {c.key for c in in_flight}
            in_flight.append(channel)
            handed[channel.key].append(at)
    for channel in in_flight:
        pacer.done(channel)
    while (item := pacer.take()) is not None:
        handed[item[0].key].append(item[1])
        pacer.done(item[0])

    assert sum(len(times) for times in handed.values()) == due  # nothing lost
    assert all(times == sorted(times) for times in handed.values())  # due order kept


class CountingAdapter(Adapter):
    """Answers every post after a few loop turns; counts posts in flight per conversation."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 9, "test")
        self.in_flight: dict[str, int] = {}
        self.most_in_flight = 0
        self.keys: dict[str, int] = {}

    async def post(self, connection: HttpConnection, channel: Channel, n: int) -> tuple[int, float]:
        self.in_flight[channel.key] = self.in_flight.get(channel.key, 0) + 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight[channel.key])
        for _ in range(3):
            await asyncio.sleep(0)
        self.in_flight[channel.key] -= 1
        self.keys[channel.key] = self.keys.get(channel.key, 0) + 1
        return self.keys[channel.key], 0.0


def test_the_paced_posters_keep_one_post_in_flight_per_conversation_over_four_connections():
    adapter = CountingAdapter()
    channels = [conversation("a"), conversation("b")]
    pick = random.Random(3)
    acked: list[tuple[str, int]] = []

    async def run():
        posters = PacedPosters(adapter, 4)
        try:
            return await posters.paced(
                2_000, 0.1, lambda: pick.choice(channels), lambda c, k, _: acked.append((c.key, k))
            )
        finally:
            posters.close()

    stats = asyncio.run(run())

    assert adapter.most_in_flight == 1
    assert stats.acked == len(acked) == stats.issued
    assert stats.issued + stats.behind == 200

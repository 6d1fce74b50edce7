"""The doctor's test stream and wait: hello then one ping a heartbeat later; both end at
once when the process shuts down, as every stream does."""

import threading
import time

from devtone.feeds.doctor import probe_stream, probe_wait
from devtone.feeds.loop import StreamSettings
from devtone.realtime.broker import MemoryBroker


def events(frames):
    return [line for frame in frames for line in frame.decode().splitlines() if "event:" in line]


def test_the_test_stream_is_hello_then_one_ping_then_the_end():
    broker = MemoryBroker()
    frames = list(probe_stream(broker, StreamSettings(heartbeat=0.05, retry_ms=3000)))
    assert events(frames) == ["event: hello", "event: ping"]
    assert frames[0].startswith(b"retry: 3000\nevent: hello\n")
    assert broker.subscriber_count() == 0


def test_at_shutdown_the_test_stream_ends_without_its_ping():
    broker = MemoryBroker()
    stream = probe_stream(broker, StreamSettings(heartbeat=60, retry_ms=3000))
    assert events([next(stream)]) == ["event: hello"]
    threading.Timer(0.05, broker.end_all).start()
    assert list(stream) == []  # not the ping a minute later


def end_all_once_subscribed(broker):
    """Shut the broker down once the probe waits on it (a fixed delay raced a busy CI)."""
    for _ in range(1000):  # 10 s at most
        if broker.subscriber_count():
            break
        time.sleep(0.01)
    broker.end_all()


def test_the_wait_answers_early_at_shutdown_and_says_how_long_it_waited():
    broker = MemoryBroker()
    threading.Thread(target=end_all_once_subscribed, args=(broker,), daemon=True).start()
    answer = probe_wait(broker, 60)
    assert answer["waited_ms"] < 60_000
    assert answer["time"].endswith("Z")

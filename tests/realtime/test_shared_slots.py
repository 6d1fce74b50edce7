"""Stream counts across processes in Redis: summed, given back, and swept after a
process dies; Redis away means "not known", never a refusal."""

import time
import uuid

import pytest
import redis

from devtone.realtime.shared_slots import SharedStreamCounts
from tests.conftest import REDIS_URL, require


@pytest.fixture
def prefix():
    require(REDIS_URL is not None, "DEVTONE_TEST_REDIS_URL is not set (Redis tests)")
    prefix = f"devtone:test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def processes(prefix):
    made = []

    def make():
        made.append(SharedStreamCounts(REDIS_URL, prefix))
        return made[-1]

    yield make
    for counts in made:
        counts.close()


def eventually(check, seconds=3.0):
    """Whether `check()` came true within `seconds` (called until it does, not after)."""
    deadline = time.monotonic() + seconds
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return answer


def test_two_processes_share_one_conversations_limit(processes):
    one, other = processes(), processes()
    assert one.take(7, limit=2) is True
    assert other.take(7, limit=2) is True
    assert one.take(7, limit=2) is False
    assert other.take(8, limit=2) is True  # another conversation counts on its own
    one.give_back(7)
    assert eventually(lambda: other.take(7, limit=2) is True)


def test_a_dead_processes_streams_stop_counting_once_its_lease_lapses(processes, prefix):
    dead, alive = processes(), processes()
    assert dead.take(7, limit=1) is True
    assert alive.take(7, limit=1) is False
    # What a lapsed lease looks like: the process's key is gone (it never renewed it).
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(*client.keys(prefix + "process:*"))
    client.close()
    assert alive.take(7, limit=1) is True


def test_redis_away_means_not_known_and_no_wait(refused_url):
    counts = SharedStreamCounts(refused_url, "devtone:test:")
    started = time.monotonic()
    assert counts.take(7, limit=1) is None
    assert counts.take(7, limit=1) is None  # paused: Redis is not even asked
    assert time.monotonic() - started < 1
    counts.close()

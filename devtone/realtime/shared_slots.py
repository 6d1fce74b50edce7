"""Open streams per conversation counted across every process that shares one Redis.

A conversation's limit (DEVTONE_STREAMS_PER_CONVERSATION) counted per process let a
visitor open that many streams on each worker. Here each process keeps its count of a
conversation's streams in one Redis hash (field: the process), and a key per process
that lives while the process renews it: a process killed with its streams open stops
counting within a lease, and its fields are swept by the next take.

Taking a slot asks Redis (the answer is needed); giving one back is queued and sent by
this process's one background thread, so ending a stream never waits on Redis. Redis
away or slow: the count is not known, and the caller falls back to its own process's
count (an outage must never refuse a customer's stream).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from devtone.connections import redis_cluster
from devtone.realtime.breaker import Breaker

logger = logging.getLogger(__name__)

LEASE_S = 30  # a process's counts outlive it by at most this long
TIMEOUT_S = 0.25  # a take waits at most this long for Redis before counting locally
PAUSE_S = 5.0  # after a failure, Redis is not asked again for this long (doubling to 60 s)
KEY_TTL_S = 24 * 3600  # a conversation's hash is swept a day after its last take

# KEYS[1]: the conversation's hash. ARGV: this process, the limit, the lease, the prefix
# of the processes' keys. Fields of processes whose key has expired are swept first.
_TAKE = """
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local process, count = fields[i], tonumber(fields[i + 1])
  if process == ARGV[1] or redis.call('EXISTS', ARGV[4] .. process) == 1 then
    total = total + count
  else
    redis.call('HDEL', KEYS[1], process)
  end
end
redis.call('SET', ARGV[4] .. ARGV[1], 1, 'EX', ARGV[3])
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
# KEYS: conversations' hashes; ARGV[1]: this process, then one decrement per key.
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  local left = redis.call('HINCRBY', key, ARGV[1], -tonumber(ARGV[i + 1]))
  if left <= 0 then redis.call('HDEL', key, ARGV[1]) end
end
return 1
"""


_ERRORS = (redis.RedisError, RedisClusterException, OSError)


class SharedStreamCounts:
    """Streams open on each conversation, summed over the processes sharing a Redis."""

    def __init__(self, url: str, prefix: str):
        self._url = url
        self._client_lock = threading.Lock()
        self._client: redis.Redis | RedisCluster | None = None
        self._scripts: dict[str, object] = {}
        self._prefix = prefix
        self._process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._held = 0  # counts this process holds in Redis
        self._returned: Counter[int] = Counter()  # decrements not sent yet
        self._breaker = Breaker(threshold=1, pause=PAUSE_S, pause_cap=60.0, on_open=self._warn)
        self._thread: threading.Thread | None = None
        self._closed = False

    def take(self, conversation_id: int, limit: int) -> bool | None:
        """Count one more stream on the conversation: True if under `limit` everywhere,
        False if not, None if Redis cannot say now (count locally then)."""
        if not self._breaker.allows():
            return None
        try:
            taken = self._script(_TAKE)(
                keys=[self._key(conversation_id)],
                args=[self._process, limit, LEASE_S, self._prefix + "process:", KEY_TTL_S],
            )
        except _ERRORS:
            self._breaker.failed()
            return None
        self._breaker.succeeded()
        if taken:
            with self._lock:
                self._held += 1
                self._start_renewing()
        return bool(taken)

    def give_back(self, conversation_id: int) -> None:
        """A stream counted by `take` ended; sent in the background, never waited on."""
        with self._lock:
            self._returned[conversation_id] += 1
        self._wake.set()

    def close(self) -> None:
        """Send what is owed and stop the background thread."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._client is not None:
            self._client.close()

    def _connected(self) -> redis.Redis | RedisCluster:
        with self._client_lock:
            if self._client is None:
                options = {
                    "socket_timeout": TIMEOUT_S,
                    "socket_connect_timeout": TIMEOUT_S,
                    "retry": Retry(NoBackoff(), 0),
                }
                cluster = redis_cluster(self._url)
                if cluster is None:
                    self._client = redis.Redis.from_url(self._url, max_connections=4, **options)
                else:
                    self._client = RedisCluster(
                        startup_nodes=[ClusterNode(host, port) for host, port in cluster.nodes],
                        username=cluster.username,
                        password=cluster.password,
                        **options,
                    )
            return self._client

    def _script(self, source: str):
        # register_script only hashes the source: no round trip until it is called.
        client = self._connected()
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return script

    def _key(self, conversation_id: int) -> str:
        return f"{self._prefix}streams:{conversation_id}"

    def _warn(self, pause: float) -> None:
        logger.warning(
            "stream counts across processes unavailable: counting locally for %.0f s", pause
        )

    def _start_renewing(self) -> None:
        # Under self._lock.
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="devtone-shared-slots", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        """Send decrements as they come; renew this process's key while it holds counts."""
        alive = self._prefix + "process:" + self._process
        renewed = time.monotonic()
        while not self._closed:
            self._wake.wait(timeout=LEASE_S / 3)
            self._wake.clear()
            with self._lock:
                returned, self._returned = self._returned, Counter()
            try:
                if returned:
                    keys = [self._key(c) for c in returned]
                    self._script(_GIVE_BACK)(keys=keys, args=[self._process, *returned.values()])
                with self._lock:
                    self._held -= sum(returned.values())
                    holding = self._held > 0
                    if not holding and not self._returned:
                        self._thread = None  # nothing to renew: the next take starts one
                        return
                if holding and time.monotonic() - renewed >= LEASE_S / 3:
                    self._connected().set(alive, 1, ex=LEASE_S)
                    renewed = time.monotonic()
            except _ERRORS:
                # Kept for the next round: a stream that ended is never counted for long.
                with self._lock:
                    self._returned.update(returned)
                self._breaker.failed()

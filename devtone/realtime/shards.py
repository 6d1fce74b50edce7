"""Where a channel lives on a Redis Cluster: K shards, each a hash tag on its own slot.

A channel (a conversation's, the monitor's) belongs to shard crc32(name) % K, and travels
on the Redis channel `{prefix}:{tag}:{name}`: the tag in braces is all Redis hashes, so
every channel of a shard lives on one slot, on one node, and one SSUBSCRIBE can take
them together (Redis refuses one that spans slots). The tags are chosen so the K slots
are spread evenly over the 16,384, and so over the nodes, which own contiguous ranges.
Each shard has its heads channel too: the dashboards' small summaries of its changes.
This module imports nothing of devtone.
"""

from __future__ import annotations

import itertools
import zlib

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

HEADS_NAME = "heads"  # the heads channel's name inside each shard
#: More shards than this would cost more to find their tags than they could spread.
MAX_SHARDS = 1024


class Shards:
    """The mapping of channels to shards, Redis channel names and slots."""

    def __init__(self, prefix: str, count: int):
        if not 1 <= count <= MAX_SHARDS:
            raise ValueError(f"shards must be 1 to {MAX_SHARDS}, not {count}")
        self.prefix = prefix
        self.count = count
        self._tags = [_tag_in(shard, count) for shard in range(count)]
        self.slots = [key_slot(f"{{{tag}}}".encode()) for tag in self._tags]

    def shard_of(self, channel: str) -> int:
        """The shard `channel` belongs to (stable across processes and restarts)."""
        return zlib.crc32(channel.encode()) % self.count

    def wire(self, channel: str) -> str:
        """The Redis channel that carries `channel`."""
        return self.wire_in(self.shard_of(channel), channel)

    def wire_in(self, shard: int, name: str) -> str:
        """The Redis channel of `name` inside `shard`."""
        return f"{self.prefix}:{{{self._tags[shard]}}}:{name}"

    def heads(self) -> list[str]:
        """Every shard's heads channel."""
        return [self.wire_in(shard, HEADS_NAME) for shard in range(self.count)]


def _tag_in(shard: int, count: int) -> str:
    """The first tag `s<shard>.<n>` whose slot falls in the shard's share of the slots."""
    low = shard * REDIS_CLUSTER_HASH_SLOTS // count
    high = (shard + 1) * REDIS_CLUSTER_HASH_SLOTS // count
    for n in itertools.count():
        tag = f"s{shard}.{n}"
        if low <= key_slot(f"{{{tag}}}".encode()) < high:
            return tag
    raise AssertionError("unreachable")  # pragma: no cover

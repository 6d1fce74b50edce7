"""The tiers and timings served by GET /api/realtime/negotiate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The client's watchdog gives up on a live stream after this many silent heartbeats.
WATCHDOG_HEARTBEATS = 2.5
#: Each retry waits initial × 2^(attempt-1), capped, then ± this share at random.
BACKOFF_JITTER = 0.2


def negotiation(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a client needs to pick its tier: the allowed tiers, in order, and timings."""
    return {
        "tiers": list(config["TIERS"]),
        "timings": {
            "hello_timeout_ms": round(config["SSE_HELLO_TIMEOUT"] * 1000),
            "heartbeat_ms": round(config["SSE_HEARTBEAT"] * 1000),
            "watchdog_heartbeats": WATCHDOG_HEARTBEATS,
            "longpoll_wait_s": config["LONGPOLL_WAIT"],
            "poll_interval_ms": round(config["POLL_INTERVAL"] * 1000),
            "backoff": {
                "initial_ms": config["BACKOFF_INITIAL_MS"],
                "max_ms": config["BACKOFF_MAX_MS"],
                "jitter": BACKOFF_JITTER,
            },
        },
    }

"""The tiers and timings served by GET /api/realtime/negotiate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The client's watchdog gives up on a live stream after this many silent heartbeats.
WATCHDOG_HEARTBEATS = 2.5
BACKOFF = {"initial_ms": 1000, "max_ms": 30000, "jitter": 0.2}


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
            "backoff": dict(BACKOFF),
        },
    }

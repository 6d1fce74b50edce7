"""Realtime delivery: the broker a process publishes through, and the streams."""

from __future__ import annotations

from flask import Flask

from devtone.config import ConfigError
from devtone.realtime.broker import Broker, MemoryBroker
from devtone.realtime.heads import HeadWatcher

EXTENSION_KEY = "devtone.broker"
HEADS_KEY = "devtone.heads"


def init_app(app: Flask) -> None:
    """Choose this app's broker from config; it connects lazily, never here."""
    if app.config.get("REDIS_URL"):
        # Several processes would silently miss each other's messages on the in-process
        # broker; refuse rather than half-work until the Redis broker lands.
        raise ConfigError("REDIS_URL is set, but this build has no Redis broker yet.")
    app.extensions[EXTENSION_KEY] = MemoryBroker(app.config["SUBSCRIBER_QUEUE"])
    app.extensions[HEADS_KEY] = HeadWatcher(app, app.config["SSE_HEARTBEAT"])


def broker_of(app: Flask) -> Broker:
    """The broker bound to `app`."""
    return app.extensions[EXTENSION_KEY]


def heads_of(app: Flask) -> HeadWatcher:
    """The head watcher that repairs `app`'s readers."""
    return app.extensions[HEADS_KEY]

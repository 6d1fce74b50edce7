"""Readers: SSE streams and long-poll waits, one loop shape for every feed.

The feeds read the domain and wait on the transport. `init_app` builds what the
process's readers share: the head watcher that repairs conversation readers, the
catch-up reads streams share, the dashboard's snapshot cache, the typing board of poll
answers, the monitor's history and the connection log's output.
"""

from __future__ import annotations

from flask import Flask

from devtone.feeds import connection_log
from devtone.feeds.catch_up import CatchUp
from devtone.feeds.dashboard import SnapshotCache
from devtone.feeds.heads import HeadWatcher
from devtone.feeds.monitor_history import MonitorHistory
from devtone.feeds.typing_board import TypingBoard
from devtone.realtime import broker_of

HEADS_KEY = "devtone.heads"
CATCH_UP_KEY = "devtone.catch_up"
SNAPSHOTS_KEY = "devtone.snapshots"
TYPING_KEY = "devtone.typing_board"
MONITOR_HISTORY_KEY = "devtone.monitor_history"


def init_app(app: Flask) -> None:
    """Give `app` its readers' shared parts; starts nothing (the samplers start lazily)."""
    app.extensions[HEADS_KEY] = HeadWatcher(app, app.config["SSE_HEARTBEAT"])
    app.extensions[CATCH_UP_KEY] = CatchUp(app, broker_of(app))
    app.extensions[SNAPSHOTS_KEY] = SnapshotCache(app)
    app.extensions[TYPING_KEY] = TypingBoard(broker_of(app))
    app.extensions[MONITOR_HISTORY_KEY] = MonitorHistory()
    connection_log.init_app(app)
    # A broker outage goes in the connection log beside the streams it cut short.
    broker_of(app).watch_outages(connection_log.record)


def heads_of(app: Flask) -> HeadWatcher:
    """The head watcher that repairs `app`'s readers."""
    return app.extensions[HEADS_KEY]


def catch_up_of(app: Flask) -> CatchUp:
    """The catch-up reads `app`'s streams share."""
    return app.extensions[CATCH_UP_KEY]


def snapshots_of(app: Flask) -> SnapshotCache:
    """The dashboard snapshots `app`'s process shares between its agents."""
    return app.extensions[SNAPSHOTS_KEY]


def typing_board_of(app: Flask) -> TypingBoard:
    """Who is typing now, as `app`'s process hears it."""
    return app.extensions[TYPING_KEY]


def monitor_history_of(app: Flask) -> MonitorHistory:
    """The monitor's last ten minutes, as `app`'s process sampled them."""
    return app.extensions[MONITOR_HISTORY_KEY]


def end_streams(app: Flask) -> None:
    """Graceful shutdown: finish every open stream and long-poll of this process now.

    Clients reconnect (to another worker, behind a load balancer) and resume from their
    cursor, instead of being cut off when the server's graceful timeout runs out.
    """
    heads_of(app).close()
    monitor_history_of(app).close()
    broker_of(app).end_all()

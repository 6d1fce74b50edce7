"""The rules and their SQL: conversations, their log, agents, visitors, presence.

Imports neither `devtone.web` nor `devtone.feeds`; publishes through the broker that
`init_app` is given, never through an import of the transport.
"""

from __future__ import annotations

from flask import Flask

from devtone.domain import announce, presence, search_index, team
from devtone.domain.announce import Publisher


def init_app(app: Flask, broker: Publisher) -> None:
    """Wire the domain's per-process parts: the publisher, the typing throttle and the
    team card."""
    announce.init_app(app, broker)
    presence.init_app(app)
    team.init_app(app)
    search_index.register()

"""SSE responses: the headers every stream needs and the app's stream timings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Flask, Response

from devtone.domain import agents, api_tokens
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.feeds.loop import StreamSettings

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # nginx buffers proxied responses unless told not to; SSE must flow byte by byte.
    "X-Accel-Buffering": "no",
}


def stream_settings(
    app: Flask,
    still_allowed: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StreamSettings:
    """This app's stream timings, and the check each heartbeat makes."""
    return StreamSettings(
        heartbeat=app.config["SSE_HEARTBEAT"],
        retry_ms=app.config["SSE_RETRY_MS"],
        still_allowed=still_allowed,
        clock=clock,
    )


def event_stream(frames: Iterator[bytes]) -> Response:
    """An SSE response around a generator of encoded frames."""
    # direct_passthrough: the server iterates our generator of bytes as it is, without
    # werkzeug's encoding and closing wrappers (two fewer frames on every open stream).
    return Response(
        frames,
        content_type="text/event-stream",
        headers=SSE_HEADERS,
        direct_passthrough=True,
    )


def agent_still_active(app: Flask, agent: AgentIdentity) -> Callable[[], bool]:
    """A check an agent's stream makes at each heartbeat: a deactivated agent's ends."""

    def still_active() -> bool:
        with app.app_context():
            return agents.load_agent(agent.get_id()) is not None

    return still_active


def token_still_valid(app: Flask, token: TokenIdentity) -> Callable[[], bool]:
    """A check a token's stream makes at each heartbeat: a revoked token's ends."""

    def still_valid() -> bool:
        with app.app_context():
            return api_tokens.still_valid(token.id)

    return still_valid


def team_still_allowed(app: Flask, who: object) -> Callable[[], bool] | None:
    """The heartbeat check of a team member's stream (an agent's or a token's); None for
    a visitor, whose token lasts as long as the conversation."""
    if isinstance(who, AgentIdentity):
        return agent_still_active(app, who)
    if isinstance(who, TokenIdentity):
        return token_still_valid(app, who)
    return None

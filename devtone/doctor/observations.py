"""What the doctor saw through the proxy: one record per probe, read from JSON (the admin's
page posts it) or filled in by the command line's probe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devtone import errors


@dataclass(frozen=True, slots=True)
class StreamSeen:
    """The doctor's test stream (hello at once, one ping a heartbeat later, then the end);
    times are ms since its request went out, None when it never came."""

    status: int | None = None  # None: no answer at all
    content_type: str | None = None
    content_encoding: str | None = None
    headers_ms: float | None = None
    hello_ms: float | None = None
    ping_ms: float | None = None
    ended_ms: float | None = None
    error: str | None = None  # what broke it, as the client said (a reset, a timeout)


@dataclass(frozen=True, slots=True)
class WaitSeen:
    """A request that the server answers only after `asked_s` seconds, as long-poll does."""

    asked_s: float
    status: int | None = None
    answered_ms: float | None = None  # since the request went out
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ClockSeen:
    """The server's time in a quick answer, and the client's clock around the request."""

    server_time: datetime
    sent_ms: float  # the client's clock (ms since the Unix epoch) as the request went out
    received_ms: float  # and as the answer came back


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything one run of the doctor saw."""

    heartbeat_ms: float
    stream: StreamSeen
    wait: WaitSeen
    clock: ClockSeen | None
    http_version: str | None  # "HTTP/1.1", "HTTP/2", "HTTP/3"; None: unknown


def read_observations(data: dict[str, Any]) -> Observations:
    """The observations in a JSON object (the admin's page posts them), or Invalid naming
    the field."""
    stream = _object(data, "stream")
    wait = _object(data, "wait")
    clock = data.get("clock")
    return Observations(
        heartbeat_ms=_number(data, "heartbeat_ms", required=True),
        stream=StreamSeen(
            status=_status(stream, "stream.status"),
            content_type=_text(stream, "stream.content_type"),
            content_encoding=_text(stream, "stream.content_encoding"),
            headers_ms=_number(stream, "stream.headers_ms"),
            hello_ms=_number(stream, "stream.hello_ms"),
            ping_ms=_number(stream, "stream.ping_ms"),
            ended_ms=_number(stream, "stream.ended_ms"),
            error=_text(stream, "stream.error"),
        ),
        wait=WaitSeen(
            asked_s=_number(wait, "wait.asked_s", required=True),
            status=_status(wait, "wait.status"),
            answered_ms=_number(wait, "wait.answered_ms"),
            error=_text(wait, "wait.error"),
        ),
        clock=None if clock is None else _clock(clock),
        http_version=_version(_text(data, "http_version")),
    )


#: How browsers name the protocol (PerformanceResourceTiming.nextHopProtocol, ALPN ids).
_VERSIONS = {"http/1.0": "HTTP/1.0", "http/1.1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3"}


def _version(said: str | None) -> str | None:
    if not said:
        return None
    return _VERSIONS.get(said.strip().lower(), said.strip().upper())


def _clock(raw: Any) -> ClockSeen:
    if not isinstance(raw, dict):
        raise errors.Invalid("{field} must be an object.", field="clock")
    text = _text(raw, "clock.server_time")
    try:
        server_time = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        server_time = None
    if server_time is None or server_time.tzinfo is None:
        raise errors.Invalid("{field} must be an ISO 8601 time in UTC.", field="clock.server_time")
    return ClockSeen(
        server_time=server_time,
        sent_ms=_number(raw, "clock.sent_ms", required=True),
        received_ms=_number(raw, "clock.received_ms", required=True),
    )


def _object(data: dict[str, Any], field: str) -> dict[str, Any]:
    value = data.get(field)
    if not isinstance(value, dict):
        raise errors.Invalid("{field} must be an object.", field=field)
    return value


def _leaf(data: dict[str, Any], field: str) -> Any:
    return data.get(field.rsplit(".", 1)[-1])


def _number(data: dict[str, Any], field: str, required: bool = False) -> float | None:
    value = _leaf(data, field)
    if value is None and not required:
        return None
    # bool is an int to Python, never a time to us.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e13:
        raise errors.Invalid("{field} must be a number ≥ 0.", field=field)
    return float(value)


def _status(data: dict[str, Any], field: str) -> int | None:
    value = _leaf(data, field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise errors.Invalid("{field} must be an HTTP status.", field=field)
    return value


def _text(data: dict[str, Any], field: str) -> str | None:
    value = _leaf(data, field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise errors.Invalid("{field} must be text of 200 characters at most.", field=field)
    return value

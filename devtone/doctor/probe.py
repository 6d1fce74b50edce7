"""The command line's eyes: the doctor's probes through a public URL, with the standard
library's HTTP client (it says which HTTP version answered, and leaves the body as the
proxy sent it, compressed or not)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from devtone.doctor.observations import ClockSeen, Observations, StreamSeen, WaitSeen

#: What a browser would accept: a proxy compresses only for a client that asks. (Not br:
#: the standard library cannot read it, and gzip shows the problem as well.)
ACCEPT_ENCODING = "gzip, deflate"
#: Seconds to wait for anything beyond what the probe itself takes.
SLACK_S = 10


class Unreachable(Exception):
    """devtone does not answer at the URL at all (so nothing can be judged)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where devtone answers: scheme, host, port and path prefix of the public URL."""

    https: bool
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Target:
        """The target of an http:// or https:// URL, or ValueError."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        https = parts.scheme == "https"
        return cls(
            https, parts.hostname, parts.port or (443 if https else 80), parts.path.rstrip("/")
        )

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """A new connection (each probe has its own, as a browser's requests would)."""
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def timings(target: Target) -> dict[str, Any]:
    """The server's timings (GET /api/realtime/negotiate), or Unreachable."""
    try:
        status, body = _get(target, "/api/realtime/negotiate", SLACK_S)
        if status != 200:
            raise Unreachable(f"/api/realtime/negotiate answered {status}")
        return json.loads(body)["timings"]
    except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
        raise Unreachable(f"/api/realtime/negotiate: {error}") from error


def observe(target: Target) -> Observations:
    """Run every probe through `target` (the stream and the wait side by side) and say
    what was seen; Unreachable when devtone does not answer at all."""
    settings = timings(target)
    heartbeat_ms = float(settings["heartbeat_ms"])
    asked = float(settings["longpoll_wait_s"])
    seen: dict[str, Any] = {}
    probes = [
        threading.Thread(target=lambda: seen.update(stream=see_stream(target, heartbeat_ms))),
        threading.Thread(target=lambda: seen.update(wait=see_wait(target, asked))),
    ]
    for probe in probes:
        probe.start()
    for probe in probes:
        probe.join()
    return Observations(
        heartbeat_ms=heartbeat_ms,
        stream=seen["stream"],
        wait=seen["wait"],
        clock=see_clock(target),
        http_version=http_version(target),
    )


def see_stream(target: Target, heartbeat_ms: float) -> StreamSeen:
    """Open the test stream; note when its headers, hello, ping and end came."""
    seen: dict[str, Any] = {}
    started = time.monotonic()

    def since() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    connection = target.connect(timeout=heartbeat_ms / 1000 + SLACK_S)
    try:
        connection.request(
            "GET",
            target.prefix + "/api/doctor/stream",
            headers={"Accept": "text/event-stream", "Accept-Encoding": ACCEPT_ENCODING},
        )
        response = connection.getresponse()
        encoding = response.getheader("Content-Encoding")
        seen.update(
            status=response.status,
            content_type=response.getheader("Content-Type"),
            content_encoding=encoding,
            headers_ms=since(),
        )
        if response.status == 200:
            for event in _events(response, encoding):
                if event in ("hello", "ping"):
                    seen.setdefault(f"{event}_ms", since())
        seen["ended_ms"] = since()
    except (OSError, http.client.HTTPException, zlib.error) as error:  # zlib: a broken gzip
        seen.update(ended_ms=since(), error=_said(error))
    finally:
        connection.close()
    return StreamSeen(**seen)


def see_wait(target: Target, asked: float) -> WaitSeen:
    """Ask the server to answer after `asked` s, as a long-poll request does."""
    started = time.monotonic()
    try:
        status, _ = _get(target, f"/api/doctor/wait?seconds={round(asked)}", asked + SLACK_S)
    except (OSError, http.client.HTTPException) as error:
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return WaitSeen(asked_s=round(asked), answered_ms=elapsed, error=_said(error))
    elapsed = round((time.monotonic() - started) * 1000, 1)
    return WaitSeen(asked_s=round(asked), status=status, answered_ms=elapsed)


def see_clock(target: Target) -> ClockSeen | None:
    """The server's time in a quick answer, and this machine's clock around it."""
    sent = time.time() * 1000
    try:
        status, body = _get(target, "/api/doctor/wait?seconds=0", SLACK_S)
        received = time.time() * 1000
        if status != 200:
            return None
        server_time = datetime.fromisoformat(json.loads(body)["time"].replace("Z", "+00:00"))
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return None
    return ClockSeen(server_time=server_time, sent_ms=sent, received_ms=received)


def http_version(target: Target) -> str:
    """The best HTTP version the server offers a browser: over TLS, what ALPN picks
    (browsers speak HTTP/2 only there); in plain http://, HTTP/1.1."""
    if not target.https:
        return "HTTP/1.1"
    context = ssl.create_default_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    try:
        with (
            socket.create_connection((target.host, target.port), timeout=SLACK_S) as raw,
            context.wrap_socket(raw, server_hostname=target.host) as tls,
        ):
            return "HTTP/2" if tls.selected_alpn_protocol() == "h2" else "HTTP/1.1"
    except OSError:
        return "HTTP/1.1"


def _get(target: Target, path: str, timeout: float) -> tuple[int, bytes]:
    connection = target.connect(timeout)
    try:
        connection.request("GET", target.prefix + path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _events(response: http.client.HTTPResponse, encoding: str | None) -> Any:
    """The event names of an SSE body as they arrive, decompressing it if it must."""
    inflate = None
    if encoding in ("gzip", "deflate"):
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, by its header
    pending = b""
    while chunk := response.read1(65536):
        pending += inflate.decompress(chunk) if inflate else chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"event:"):
                yield line[len(b"event:") :].strip().decode("utf-8", "replace")


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip().rstrip(":")

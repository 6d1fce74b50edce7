"""The load client's connections: keep-alive HTTP/1.1 requests and SSE streams, on asyncio.

Requests use asyncio streams; SSE streams are asyncio protocols, so reading an event is
one callback with no task switch (thousands of streams, tens of thousands of events a
second, one process). Every wait has a timeout. Only loopback addresses are accepted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable

from bench.wire import (
    HEAD_END,
    ChunkedDecoder,
    Event,
    ProtocolError,
    ResponseHead,
    SseParser,
    parse_head,
    request_bytes,
)

REQUEST_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
# Below gunicorn's keep-alive (5 s here): a connection idle longer than this may be closed
# by the server just as we write to it, so it is replaced instead of reused.
MAX_IDLE = 2.0
clock = time.perf_counter


def check_loopback(host: str) -> None:
    """Refuse any target that is not on this machine's loopback."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the benchmark only talks to loopback addresses, not {host}")


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, host: str, port: int):
        check_loopback(host)
        self.host = host
        self.port = port
        self.authority = f"{host}:{port}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), CONNECT_TIMEOUT
        )

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> tuple[ResponseHead, bytes, float]:
        """Send one request; return the response head, its body and when it was sent."""
        stale = (
            self._writer is None
            or self._writer.is_closing()
            or self._reader is None
            or self._reader.at_eof()
            or clock() - self._last_used > MAX_IDLE
        )
        if stale:
            self.close()
            await self._open()
        assert self._reader is not None and self._writer is not None
        data = request_bytes(method, path, self.authority, headers, body)
        sent = clock()
        self._writer.write(data)
        try:
            async with asyncio.timeout(timeout):
                head, payload = await self._response()
        except BaseException:
            self.close()  # the connection's state is unknown: never reuse it
            raise
        self._last_used = clock()
        if not head.keep_alive:
            self.close()
        return head, payload, sent

    async def _response(self) -> tuple[ResponseHead, bytes]:
        assert self._reader is not None
        raw = await self._reader.readuntil(HEAD_END)
        head = parse_head(raw[: -len(HEAD_END)])
        if head.chunked:
            decoder = ChunkedDecoder()
            parts = []
            while not decoder.done:
                chunk = await self._reader.read(1 << 16)
                if not chunk:
                    raise ProtocolError("connection closed inside a chunked body")
                parts.append(decoder.feed(chunk))
            return head, b"".join(parts)
        length = head.content_length
        if length is not None:
            return head, await self._reader.readexactly(length)
        body = await self._reader.read()
        self.close()
        return head, body

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._reader = None


EventHandler = Callable[["SseStream", Event, float], None]


class SseStream(asyncio.Protocol):
    """One open SSE stream: sends its GET, then hands each event to `on_event`."""

    def __init__(self, index: int, channel: object, request: bytes, on_event: EventHandler):
        self.index = index
        self.channel = channel
        self.request = request
        self.on_event = on_event
        self.transport: asyncio.Transport | None = None
        self.head: ResponseHead | None = None
        self.error: str | None = None
        self.ended_at: float | None = None
        self.ready = False  # received a message event (the warm-up)
        self.hello = False  # received the server's own first event (devtone's `hello`)
        self.pings = 0
        self.floor = 0  # keys at or below this are warm-up, not measured
        self.record: Callable[[int, float], None] | None = None
        self._head_buf = b""
        self._decoder: ChunkedDecoder | None = None
        self._parser = SseParser()
        self.connected = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the GET at once."""
        self.transport = transport  # type: ignore[assignment] - uvloop's is no subclass
        transport.write(self.request)
        if not self.connected.done():
            self.connected.set_result(True)

    def data_received(self, data: bytes) -> None:
        """Parse what arrived; one timestamp for every event in this read."""
        now = clock()
        if self.head is None:
            self._head_buf += data
            end = self._head_buf.find(HEAD_END)
            if end < 0:
                return
            try:
                self.head = parse_head(self._head_buf[:end])
            except ProtocolError as error:
                self._fail(str(error))
                return
            data = self._head_buf[end + len(HEAD_END) :]
            self._head_buf = b""
            content_type = self.head.headers.get("content-type", "")
            if self.head.status != 200 or not content_type.startswith("text/event-stream"):
                self._fail(f"HTTP {self.head.status} {content_type}")
                return
            self._decoder = ChunkedDecoder() if self.head.chunked else None
        try:
            body = self._decoder.feed(data) if self._decoder is not None else data
            if body:
                for event in self._parser.feed(body):
                    self.on_event(self, event, now)
        except ProtocolError as error:
            self._fail(str(error))

    def connection_lost(self, exc: Exception | None) -> None:
        """Note when and why the stream ended."""
        self.ended_at = clock()
        if exc is not None and self.error is None:
            self.error = f"{type(exc).__name__}: {exc}"
        elif self.error is None:
            self.error = "closed by the server"
        if not self.connected.done():
            self.connected.set_result(False)

    # -- ours --------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        """Whether the connection is still up."""
        return self.transport is not None and self.ended_at is None

    def _fail(self, reason: str) -> None:
        self.error = reason
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.transport is not None:
            self.transport.close()


async def open_stream(
    host: str, port: int, stream: SseStream, timeout: float = CONNECT_TIMEOUT
) -> bool:
    """Connect `stream` and send its request; False if the connection failed."""
    check_loopback(host)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.create_connection(lambda: stream, host, port), timeout)
    except (OSError, TimeoutError) as error:
        stream.error = f"connect: {type(error).__name__}: {error}"
        stream.ended_at = clock()
        return False
    return True

"""HTTP/1.1 and Server-Sent Events on the wire, incrementally and without I/O.

The load client feeds whatever bytes a socket gave it and gets back what is complete:
a response head, de-chunked body bytes, whole SSE events. Kept pure so it can be tested
byte by byte, and cheap, because it runs once per event on thousands of streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

HEAD_END = b"\r\n\r\n"


class ProtocolError(Exception):
    """The server sent something that is not HTTP/1.1 or SSE as expected."""


@dataclass(frozen=True)
class ResponseHead:
    """Status line and headers of one response (header names lower-cased)."""

    status: int
    headers: dict[str, str]

    @property
    def chunked(self) -> bool:
        """Whether the body uses chunked transfer encoding."""
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def content_length(self) -> int | None:
        """The Content-Length, if the server sent one."""
        raw = self.headers.get("content-length")
        return int(raw) if raw is not None else None

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another request (HTTP/1.1 default)."""
        return self.headers.get("connection", "").lower() != "close"


def parse_head(raw: bytes) -> ResponseHead:
    """Parse `HTTP/1.1 200 OK\\r\\nName: value\\r\\n…` (the terminating blank line optional)."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return ResponseHead(int(parts[1]), headers)


def request_bytes(
    method: str,
    path: str,
    host: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> bytes:
    """One HTTP/1.1 request, keep-alive, with a Content-Length when there is a body."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body is not None else head


class ChunkedDecoder:
    """Incremental `Transfer-Encoding: chunked` decoding; `done` after the last chunk."""

    def __init__(self) -> None:
        self._buf = bytearray()
        # > 0: bytes of chunk data still to come; 0: a size line is next;
        # -1: the CRLF that ends a chunk's data is next.
        self._left = 0
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Take raw bytes; return the body bytes they complete."""
        if self.done:
            return b""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        while pos < end:
            if self._left > 0:
                take = min(self._left, end - pos)
                out.append(bytes(buf[pos : pos + take]))
                pos += take
                self._left -= take
                if self._left:
                    break
                self._left = -1
            if self._left == -1:
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("chunk data not followed by CRLF")
                pos += 2
                self._left = 0
            moved = self._size_line(buf, pos, end)
            if moved == pos:
                break
            pos = moved
            if self.done:
                break
        del buf[:pos]
        return b"".join(out)

    def _size_line(self, buf: bytearray, pos: int, end: int) -> int:
        """Read a chunk-size line at `pos`; return where the data starts (`pos` if incomplete)."""
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            if end - pos > 1024:
                raise ProtocolError("chunk size line too long")
            return pos
        size_field = bytes(buf[pos:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_field[:20]!r}") from None
        if size == 0:
            self.done = True  # trailers, if any, are of no interest here
        self._left = size
        return line_end + 2


class Event(NamedTuple):
    """One dispatched SSE event (a tuple: made once per event on every stream)."""

    type: str
    id: str | None
    data: bytes


class SseParser:
    """Incremental `text/event-stream` parsing (WHATWG HTML §9.2.6), events as they complete.

    Comments (`:` lines) and blocks without a `data` field are not dispatched, as in a
    browser. The `retry` field is ignored. Line ends may be LF, CRLF or CR.
    """

    def __init__(self) -> None:
        self._buf = b""
        self.last_event_id: str | None = None

    def feed(self, data: bytes) -> list[Event]:
        """Take body bytes; return the events they complete."""
        if b"\r" in data or b"\r" in self._buf[-1:]:
            data = self._buf + data
            # A trailing lone CR might be the first half of CRLF: keep it for next time.
            held = b""
            if data.endswith(b"\r"):
                data, held = data[:-1], b"\r"
            text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            blocks = text.split(b"\n\n")
            self._buf = blocks.pop() + held
        else:
            blocks = (self._buf + data).split(b"\n\n")
            self._buf = blocks.pop()
        events: list[Event] = []
        for block in blocks:
            event = self._event(block)
            if event is not None:
                events.append(event)
        return events

    def _event(self, block: bytes) -> Event | None:
        event_type = "message"
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if not line or line[0] == 58:  # ":" starts a comment
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                event_type = value.decode()
            elif name == b"id":
                if b"\0" not in value:
                    self.last_event_id = value.decode()
        if not data:
            return None
        return Event(event_type, self.last_event_id, b"\n".join(data))

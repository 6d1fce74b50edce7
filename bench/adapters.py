"""One adapter per server: create a channel, post to it, open a stream, name an event.

The phases drive every server the same way through these; only the wire details differ.
A message's *key* is its per-channel sequence number as the server assigned it (devtone's
`seq`, the reference's event id), taken from the POST's answer and from the event's `id:`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bench.client import HttpConnection
from bench.wire import Event, request_bytes

BODY = "Hello! I have a question about order #{n}: when will it ship?"


class PostFailed(Exception):
    """The server did not acknowledge a post."""


@dataclass(frozen=True)
class Channel:
    """Where messages go: a devtone conversation (with its visitor token) or a channel name."""

    key: str
    id: str
    token: str = ""


@dataclass(frozen=True)
class Page:
    """What one long-poll answer carried."""

    keys: list[int]
    cursor: int


class Adapter:
    """The interface the phases use; one subclass per server."""

    name = "?"
    has_hello = False  # the stream announces itself before any message (devtone's `hello`)
    supports_longpoll = False

    def __init__(self, host: str, port: int, run_id: str):
        self.host = host
        self.port = port
        self.authority = f"{host}:{port}"
        self.run_id = run_id

    async def create_channel(self, connection: HttpConnection, index: int) -> Channel:
        """Make a new channel (a conversation) to post to."""
        raise NotImplementedError

    def stream_request(self, channel: Channel) -> bytes:
        """The GET that opens an SSE stream on `channel`."""
        raise NotImplementedError

    async def post(self, connection: HttpConnection, channel: Channel, n: int) -> tuple[int, float]:
        """Post message `n`; return its key and when the request was sent."""
        raise NotImplementedError

    def key_of(self, event: Event) -> int | None:
        """The key of a message event; None for the server's other events (hello, ping)."""
        if event.type != "message" or event.id is None:
            return None
        return int(event.id)

    async def poll(
        self, connection: HttpConnection, channel: Channel, cursor: int, wait: int
    ) -> Page:
        """One long-poll request after `cursor`."""
        raise NotImplementedError(f"{self.name} has no long-poll tier")


class DevtoneAdapter(Adapter):
    """devtone's visitor API: conversations, messages, `…/events`, `…/messages?wait=`."""

    name = "devtone"
    has_hello = True
    supports_longpoll = True

    async def create_channel(self, connection: HttpConnection, index: int) -> Channel:
        """`POST /api/conversations` → the conversation id and its visitor token."""
        body = json.dumps({"name": f"Bench visitor {index}"}).encode()
        head, payload, _ = await connection.request(
            "POST", "/api/conversations", {"Content-Type": "application/json"}, body
        )
        if head.status != 201:
            raise PostFailed(f"POST /api/conversations: HTTP {head.status} {payload[:200]!r}")
        data = json.loads(payload)
        conversation_id = str(data["conversation"]["id"])
        return Channel(key=conversation_id, id=conversation_id, token=data["token"])

    def stream_request(self, channel: Channel) -> bytes:
        """`GET /api/conversations/<id>/events` with the bearer token in the query."""
        return request_bytes(
            "GET",
            f"/api/conversations/{channel.id}/events?token={channel.token}",
            self.authority,
            {"Accept": "text/event-stream"},
        )

    async def post(self, connection: HttpConnection, channel: Channel, n: int) -> tuple[int, float]:
        """`POST /api/conversations/<id>/messages` {body, client_id}: stored, seq, published."""
        body = json.dumps(
            {"body": BODY.format(n=n), "client_id": f"bench-{self.run_id}-{n}"}
        ).encode()
        head, payload, sent = await connection.request(
            "POST",
            f"/api/conversations/{channel.id}/messages",
            {"Content-Type": "application/json", "Authorization": f"Bearer {channel.token}"},
            body,
        )
        if head.status not in (200, 201):
            raise PostFailed(f"HTTP {head.status} {payload[:200]!r}")
        return int(json.loads(payload)["message"]["seq"]), sent

    async def poll(
        self, connection: HttpConnection, channel: Channel, cursor: int, wait: int
    ) -> Page:
        """`GET /api/conversations/<id>/messages?after=N&wait=S`."""
        head, payload, _ = await connection.request(
            "GET",
            f"/api/conversations/{channel.id}/messages?after={cursor}&wait={wait}&limit=500",
            {"Authorization": f"Bearer {channel.token}"},
            timeout=wait + 15,
        )
        if head.status != 200:
            raise PostFailed(f"long-poll: HTTP {head.status} {payload[:200]!r}")
        data = json.loads(payload)
        return Page([int(m["seq"]) for m in data["messages"]], int(data["cursor"]))


class FlaskSseAdapter(Adapter):
    """The reference app: `GET /stream?channel=c`, `POST /publish` {channel, message}."""

    name = "flask-sse"

    async def create_channel(self, connection: HttpConnection, index: int) -> Channel:
        """A channel is only a name (prefixed with the run, Redis channels are global)."""
        name = f"devtone-bench:{self.run_id}:{self.port}:{index}"
        return Channel(key=str(index), id=name)

    def stream_request(self, channel: Channel) -> bytes:
        """flask-sse's blueprint: `GET /stream?channel=<name>`."""
        return request_bytes(
            "GET",
            f"/stream?channel={quote(channel.id, safe='')}",
            self.authority,
            {"Accept": "text/event-stream"},
        )

    async def post(self, connection: HttpConnection, channel: Channel, n: int) -> tuple[int, float]:
        """`POST /publish`: a message shaped like devtone's, published by `sse.publish`."""
        message: dict[str, Any] = {
            "conversation_id": channel.key,
            "kind": "text",
            "sender": "visitor",
            "author": {"name": f"Bench visitor {channel.key}"},
            "body": BODY.format(n=n),
            "status": None,
            "client_id": f"bench-{self.run_id}-{n}",
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        body = json.dumps({"channel": channel.id, "message": message}).encode()
        head, payload, sent = await connection.request(
            "POST", "/publish", {"Content-Type": "application/json"}, body
        )
        if head.status != 201:
            raise PostFailed(f"HTTP {head.status} {payload[:200]!r}")
        return int(json.loads(payload)["id"]), sent


class NchanAdapter(Adapter):
    """nchan (bench/nchan.py): `POST /pub/<c>`, `GET /sub/<c>` (SSE), `GET /lp/<c>` (long-poll).

    nchan's event ids are its own (`<time>:<tag>`), so the key travels at the front of the
    data (`{"seq": k, …}`). The adapter numbers each channel's messages and holds a
    channel's lock until nchan has acknowledged the post, so the keys are published in
    order (as the reference app does under its lock), even from 32 connections at once.
    """

    name = "nchan"
    supports_longpoll = True

    def __init__(self, host: str, port: int, run_id: str):
        super().__init__(host, port, run_id)
        self._next: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # (channel, key) -> (Last-Modified, Etag) of that message: where a long-poll
        # that has read up to `key` resumes.
        self._marks: dict[tuple[str, int], tuple[str, str]] = {}

    async def create_channel(self, connection: HttpConnection, index: int) -> Channel:
        """A channel is created by its first message; here it is only a name."""
        return Channel(key=str(index), id=f"c{index}")

    def stream_request(self, channel: Channel) -> bytes:
        """`GET /sub/<channel>` (nchan_subscriber eventsource)."""
        return request_bytes(
            "GET", f"/sub/{channel.id}", self.authority, {"Accept": "text/event-stream"}
        )

    async def post(self, connection: HttpConnection, channel: Channel, n: int) -> tuple[int, float]:
        """`POST /pub/<channel>` with a message shaped like devtone's, its key first."""
        lock = self._locks.setdefault(channel.key, asyncio.Lock())
        async with lock:
            key = self._next.get(channel.key, 0) + 1
            message = {
                "seq": key,
                "conversation_id": channel.key,
                "kind": "text",
                "sender": "visitor",
                "author": {"name": f"Bench visitor {channel.key}"},
                "body": BODY.format(n=n),
                "status": None,
                "client_id": f"bench-{self.run_id}-{n}",
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            head, payload, sent = await connection.request(
                "POST",
                f"/pub/{channel.id}",
                {"Content-Type": "application/json", "Accept": "text/plain"},
                json.dumps(message, separators=(",", ":")).encode(),
            )
            if head.status not in (200, 201, 202):
                raise PostFailed(f"HTTP {head.status} {payload[:200]!r}")
            self._next[channel.key] = key
        return key, sent

    def key_of(self, event: Event) -> int | None:
        """The `seq` at the front of the data: `{"seq":12,…}`."""
        return seq_of(event.data)

    async def poll(
        self, connection: HttpConnection, channel: Channel, cursor: int, wait: int
    ) -> Page:
        """`GET /lp/<channel>` after the message `cursor` (nchan waits up to 25 s, then 408)."""
        headers = {"Accept": "application/json"}
        mark = self._marks.get((channel.key, cursor))
        if mark is not None:
            headers["If-Modified-Since"], headers["If-None-Match"] = mark
        head, payload, _ = await connection.request(
            "GET", f"/lp/{channel.id}", headers, timeout=wait + 15
        )
        if head.status in (304, 408):
            return Page([], cursor)
        if head.status != 200:
            raise PostFailed(f"long-poll: HTTP {head.status} {payload[:200]!r}")
        key = seq_of(payload)
        if key is None:
            raise PostFailed(f"long-poll: no seq in {payload[:200]!r}")
        self._marks[(channel.key, key)] = (
            head.headers.get("last-modified", ""),
            head.headers.get("etag", ""),
        )
        return Page([key], key)


def seq_of(data: bytes) -> int | None:
    """The key of a message whose JSON starts `{"seq":<key>,`; None for anything else."""
    if not data.startswith(b'{"seq":'):
        return None
    end = data.find(b",", 7)
    try:
        return int(data[7:end] if end > 0 else data[7:-1])
    except ValueError:
        return None


def adapter_for(kind: str, host: str, port: int, run_id: str) -> Adapter:
    """The adapter of a server kind."""
    adapters: dict[str, type[Adapter]] = {
        "devtone": DevtoneAdapter,
        "flask-sse": FlaskSseAdapter,
        "nchan": NchanAdapter,
    }
    return adapters[kind](host, port, run_id)

"""A real SSE client (sseclient-py over requests) reading in a thread of its own."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import sseclient
from sqlalchemy import select

from devtone.domain.models import Message
from devtone.extensions import db


class SseReader:
    """One open SSE stream; collects `message` seqs, counts pings, in a background thread."""

    def __init__(
        self,
        base_url: str,
        conversation_id: int,
        token: str,
        *,
        last_event_id=None,
        after=None,
    ):
        url = f"{base_url}/api/conversations/{conversation_id}/events"
        params = {"token": token}
        if after is not None:
            params["after"] = after
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(
            url, params=params, headers=headers, stream=True, timeout=(5, 30)
        )
        self.response.raise_for_status()
        self.hello = None
        self.seqs: list[int] = []
        self.pings = 0
        self.error: BaseException | None = None
        self.ended = False  # the response finished (cleanly, unless `error` is set)
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in sseclient.SSEClient(self.response.iter_content(chunk_size=None)).events():
                with self._changed:
                    if event.event == "hello":
                        self.hello = json.loads(event.data)
                    elif event.event == "message":
                        data = json.loads(event.data)
                        assert event.id == str(data["seq"])
                        self.seqs.append(data["seq"])
                    elif event.event == "ping":
                        self.pings += 1
                    self._changed.notify_all()
        except BaseException as error:  # reported by wait()
            with self._changed:
                self.error = error
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait(self, predicate, timeout: float = 30) -> None:
        """Block until `predicate(self)` holds (or fail after `timeout` s)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                if self.ended and not self.closed:
                    raise AssertionError(f"the stream ended: {self.error!r}; seqs {self.seqs[-5:]}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out; seqs so far: {self.seqs[-5:]}, pings {self.pings}"
                    )
                self._changed.wait(remaining)

    def wait_for_seq(self, seq: int, timeout: float = 60) -> None:
        self.wait(lambda r: seq in r.seqs, timeout)

    def settle(self) -> None:
        """Wait one more heartbeat, so a late duplicate would have arrived."""
        pings = self.pings
        self.wait(lambda r: r.pings > pings)

    closed = False

    def close(self) -> None:
        self.closed = True
        self.response.close()


@pytest.fixture
def open_reader():
    readers: list[SseReader] = []

    def open_(*args, **kwargs) -> SseReader:
        reader = SseReader(*args, **kwargs)
        readers.append(reader)
        return reader

    yield open_
    for reader in readers:
        reader.close()


def stored_seqs(app, conversation_id: int) -> list[int]:
    """The seqs the database holds for a conversation, in order."""
    with app.app_context():
        seqs = list(
            db.session.scalars(
                select(Message.seq)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
        )
        db.session.remove()
    return seqs

"""The fault drills' one helper: a poster that records what was acknowledged and how long
each post took, and readers (SSE and long-poll) that record what arrived, each resuming
from its cursor across errors the way the browser does.

A drill runs them around a fault, then `Drill.finish` checks the one rule: everything
acknowledged is stored once and reaches every reader once, in order (0 lost, 0
duplicated, 0 reordered).
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests
import sseclient

from tests.live.conftest import stored_seqs

#: How long a reader or the poster waits before trying again after an error.
RETRY_DELAY = 0.2

Address = str | Callable[[], str]


def _address(address: Address) -> Callable[[], str]:
    return address if callable(address) else (lambda: address)


@dataclass(frozen=True)
class Attempt:
    """One POST of a message: when it started (monotonic), how long it took, its answer."""

    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    body: dict | None
    retry_after: str | None


class Poster:
    """Posts to one conversation steadily, as a browser's outbox does: a message keeps its
    client_id across retries until it is acknowledged (posting is idempotent)."""

    def __init__(self, url: Callable[[], str], visitor, interval: float = 0.02):
        self.url = url  # asked before each attempt: drills move the servers around
        self.visitor = visitor
        self.interval = interval
        self.acknowledged: dict[str, int] = {}  # client_id -> seq
        self.attempts: list[Attempt] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Poster:
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        """Stop after the message in hand is acknowledged."""
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the poster never got its last message through"

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Block until `count` messages are acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} acknowledged"
            time.sleep(0.01)

    def during(self, start: float, end: float) -> list[Attempt]:
        """The attempts that started and ended between `start` and `end` (monotonic)."""
        return [a for a in self.attempts if a.started >= start and a.started + a.seconds <= end]

    def _run(self) -> None:
        with requests.Session() as session:
            number = 0
            while not self._stop.is_set():
                client_id = str(uuid.uuid4())
                while not self._post(session, client_id, f"m{number}"):
                    time.sleep(RETRY_DELAY)
                number += 1
                time.sleep(self.interval)

    def _post(self, session: requests.Session, client_id: str, body: str) -> bool:
        started = time.monotonic()
        try:
            answer = session.post(
                f"{self.url()}/api/conversations/{self.visitor.id}/messages",
                json={"body": body, "client_id": client_id},
                headers=self.visitor.headers,
                timeout=30,
            )
        except requests.RequestException:
            self.attempts.append(Attempt(started, time.monotonic() - started, None, None, None))
            return False
        seconds = time.monotonic() - started
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        self.attempts.append(
            Attempt(
                started, seconds, answer.status_code, payload, answer.headers.get("Retry-After")
            )
        )
        if answer.status_code in (200, 201):
            seq = payload["message"]["seq"]
            assert self.acknowledged.setdefault(client_id, seq) == seq
            return True
        return False


class _Reader:
    """What both readers share: the seqs that arrived, in arrival order, and a wait."""

    tier = ""

    def __init__(self, url: Callable[[], str], visitor):
        self.url = url
        self.visitor = visitor
        self.seqs: list[int] = []
        self.reconnects = 0
        self._closed = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    @property
    def cursor(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def wait_for_seq(self, seq: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.cursor < seq:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{self.tier} reader stuck at {self.cursor}, wants {seq}"
                self._changed.wait(remaining)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(35)

    def _arrived(self, seq: int) -> None:
        with self._changed:
            self.seqs.append(seq)
            self._changed.notify_all()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self._read()
            except (requests.RequestException, OSError, ValueError):
                pass  # the server went away, answered 503, or cut the stream: resume
            if not self._closed.is_set():
                self.reconnects += 1
                time.sleep(RETRY_DELAY)

    def _read(self) -> None:
        raise NotImplementedError


class SseDrillReader(_Reader):
    """An SSE stream that resumes with Last-Event-ID, as EventSource does."""

    tier = "sse"
    port: int | None = None

    def _read(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.seqs:
            headers["Last-Event-ID"] = str(self.cursor)
        with requests.get(
            f"{self.url()}/api/conversations/{self.visitor.id}/events",
            params={"token": self.visitor.token},
            headers=headers,
            stream=True,
            timeout=(5, 10),
        ) as response:
            response.raise_for_status()
            # The client side of the stream's connection: which worker serves it (/proc).
            connection = response.raw._connection
            if connection is not None and connection.sock is not None:
                self.port = connection.sock.getsockname()[1]
            for event in sseclient.SSEClient(response.iter_content(chunk_size=None)).events():
                if self._closed.is_set():
                    return
                if event.event == "message":
                    self._arrived(json.loads(event.data)["seq"])


class LongPollDrillReader(_Reader):
    """Long-poll from the cursor, as the negotiator's second tier does."""

    tier = "longpoll"

    def _read(self) -> None:
        with requests.Session() as session:
            while not self._closed.is_set():
                answer = session.get(
                    f"{self.url()}/api/conversations/{self.visitor.id}/messages",
                    params={"after": self.cursor, "wait": 2},
                    headers=self.visitor.headers,
                    timeout=(5, 10),
                )
                answer.raise_for_status()
                for message in answer.json()["messages"]:
                    self._arrived(message["seq"])


class Drill:
    """A poster and one reader per tier on one conversation, started together.

    Each address is a URL or a callable returning one, asked before every request (a
    drill can post to two processes in turn, or read from one while posting to another).
    """

    def __init__(self, visitor, post: Address, sse: Address | None = None, longpoll=None):
        self.visitor = visitor
        self.poster = Poster(_address(post), visitor)
        self.sse = SseDrillReader(_address(sse or post), visitor)
        self.longpoll = LongPollDrillReader(_address(longpoll or sse or post), visitor)
        self.readers = [self.sse, self.longpoll]

    def start(self, acknowledged_first: int = 20) -> Drill:
        for reader in self.readers:
            reader.start()
        self.poster.start()
        self.poster.wait_for(acknowledged_first)
        return self

    def finish(self, app) -> dict:
        """Stop posting; check that what was acknowledged is stored and delivered once, in
        order, to every reader; return the drill's figures."""
        self.poster.stop()
        acknowledged = sorted(self.poster.acknowledged.values())
        count = len(acknowledged)
        try:
            for reader in self.readers:
                reader.wait_for_seq(count)
            time.sleep(1)  # a late duplicate would arrive within a couple of heartbeats
        finally:
            for reader in self.readers:
                reader.close()
        expected = list(range(1, count + 1))
        assert acknowledged == expected, "acknowledged seqs are not 1..N, each once"
        assert stored_seqs(app, self.visitor.id) == expected, "stored ≠ acknowledged"
        for reader in self.readers:
            lost = len(set(expected) - set(reader.seqs))
            duplicated = len(reader.seqs) - len(set(reader.seqs))
            reordered = sum(1 for a, b in itertools.pairwise(reader.seqs) if b < a)
            assert (lost, duplicated, reordered) == (0, 0, 0), (
                f"{reader.tier}: {lost} lost, {duplicated} duplicated, {reordered} reordered"
            )
        seconds = [a.seconds for a in self.poster.attempts]
        return {
            "acknowledged": count,
            "lost_duplicated_reordered": [0, 0, 0],
            "attempts": len(seconds),
            "failed_attempts": sum(a.status not in (200, 201) for a in self.poster.attempts),
            "post_median_ms": milliseconds(statistics.median(seconds)),
            "post_longest_ms": milliseconds(max(seconds)),
            "reconnects": {r.tier: r.reconnects for r in self.readers},
        }


def milliseconds(seconds: float) -> float:
    """Seconds as milliseconds, rounded for a report."""
    return round(seconds * 1000, 1)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0.99 for p99): the smallest value with at
    least that fraction of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

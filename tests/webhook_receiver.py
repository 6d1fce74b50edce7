"""A real HTTP receiver of webhooks on a loopback port (a threaded http.server): it keeps
every request it got and answers with the statuses a test scripts, or holds a request
open until the test lets it go."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as it arrived: its headers and its raw body."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """`statuses` answer the requests in turn (then 200), or `answer(event)` decides;
    `hold()` keeps the next requests open until `release()`."""

    def __init__(self):
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.answer: Callable[[dict], int] | None = None
        self._held = threading.Event()
        self._held.set()
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._arrived:
                    receiver.received.append(Received(self.path, headers, body))
                    if receiver.answer is not None:
                        status = receiver.answer(json.loads(body))
                    else:
                        status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._arrived.notify_all()
                receiver._held.wait(60)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold(self) -> None:
        """Keep every request from now on open, unanswered, until `release()`."""
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float = 15) -> None:
        """Return once `condition(received)` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not condition(self.received):
                left = deadline - time.monotonic()
                assert left > 0, f"the receiver got {[r.event['type'] for r in self.received]}"
                self._arrived.wait(left)

    def events(self) -> list[dict]:
        return [received.event for received in self.received]

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

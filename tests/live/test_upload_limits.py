"""Uploads against a real gunicorn + gevent server, over a raw socket: a client that
announces 1 GB is answered 413 before it sends it, and one cut off mid-body leaves
nothing stored."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import stored_counts

pytestmark = pytest.mark.live

BOUNDARY = "devtoneboundary"


def head(conversation_id: int, token: str, length: int) -> bytes:
    lines = [
        f"POST /api/conversations/{conversation_id}/attachments HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def form(content: bytes, name: str = "notes.txt") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\nc-1\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def answer_of(connection: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the server's answer (read until it closes)."""
    connection.settimeout(10)
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    if b"chunked" in rest.partition(b"\r\n\r\n")[0].lower():
        body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    return int(status_line.split()[1]), json.loads(body or b"{}")


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_a_1_gb_upload_is_answered_413_before_its_body_is_sent(app, live_server, visitor, tmp_path):
    server = live_server()
    before = stored_counts(app)
    started = time.monotonic()
    with connect(server.url) as connection:
        connection.sendall(head(visitor.id, visitor.token, 1024**3) + form(b"a" * 4096)[:2000])
        status, body = answer_of(connection)  # the rest of the gigabyte is never sent
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert time.monotonic() - started < 5
    assert stored_counts(app) == before
    assert files_under(tmp_path / "instance" / "attachments") == []


def test_an_upload_cut_off_mid_body_stores_nothing(app, live_server, visitor, tmp_path):
    server = live_server()
    before = stored_counts(app)
    whole = form(b"line of a log\n" * 20_000)
    with connect(server.url) as connection:
        connection.sendall(head(visitor.id, visitor.token, len(whole)) + whole[: len(whole) // 2])
        connection.shutdown(socket.SHUT_WR)  # the client's line dropped: no more bytes come
        try:
            status, body = answer_of(connection)
        except (ConnectionError, json.JSONDecodeError):
            status, body = None, {}  # hung up on, which is as good an answer
    # Werkzeug sees a short body (400) or, under gunicorn, a form whose file part never
    # ended: no file (422 `required`).
    assert status in (None, 400, 422), body
    if status is not None:
        assert body["error"]["code"]
    time.sleep(0.5)  # whatever the server was doing with it is over
    assert stored_counts(app) == before
    assert files_under(tmp_path / "instance" / "attachments") == []

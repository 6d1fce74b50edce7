"""The production path: several gunicorn processes sharing PostgreSQL and Redis."""

import selectors
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

# Two processes only share a log and a broker on the production pair.
from tests.live.conftest import stored_seqs

pytestmark = [
    pytest.mark.live,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def post(url, visitor, body, session=requests):
    answer = session.post(
        f"{url}/api/conversations/{visitor.id}/messages",
        json={"body": body, "client_id": str(uuid.uuid4())},
        headers=visitor.headers,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["message"]["seq"]


def test_two_processes_deliver_every_message_to_every_stream_once_in_order(
    app, live_server, visitor, open_reader
):
    servers = [live_server(), live_server()]
    readers = [open_reader(s.url, visitor.id, visitor.token) for s in servers]
    for reader in readers:
        reader.wait(lambda r: r.hello is not None)

    def writer(n):
        with requests.Session() as session:
            # Each writer alternates between the two processes.
            return [post(servers[i % 2].url, visitor, f"{n}/{i}", session) for i in range(250)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = [seq for seqs in pool.map(writer, range(4)) for seq in seqs]

    assert sorted(answered) == list(range(1, 1001))
    assert stored_seqs(app, visitor.id) == list(range(1, 1001))
    for reader in readers:
        reader.wait_for_seq(1000)
        reader.settle()
        assert reader.seqs == list(range(1, 1001))


def test_sigterm_ends_streams_cleanly_and_clients_resume_on_the_other_process(
    live_server, visitor, open_reader
):
    leaving, staying = live_server(), live_server()
    reader = open_reader(leaving.url, visitor.id, visitor.token)
    reader.wait(lambda r: r.hello is not None)

    posted: list[int] = []

    def post_steadily():
        with requests.Session() as session:
            for i in range(100):
                posted.append(post(staying.url, visitor, f"m{i}", session))
                time.sleep(0.01)

    poster = threading.Thread(target=post_steadily)
    poster.start()
    try:
        reader.wait(lambda r: len(r.seqs) >= 20)
        leaving.process.send_signal(signal.SIGTERM)
        # The worker finished the response (a clean end of the chunked body), rather
        # than leaving the client to time out or be cut at the graceful timeout.
        reader.wait(lambda r: r.ended, timeout=10)
        assert reader.error is None
        # What a browser's EventSource does next: reconnect with Last-Event-ID; the
        # load balancer sends it to the process that stayed.
        resumed = open_reader(staying.url, visitor.id, visitor.token, last_event_id=reader.seqs[-1])
    finally:
        poster.join()
    resumed.wait_for_seq(100)
    resumed.settle()
    assert reader.seqs + resumed.seqs == list(range(1, 101))
    assert leaving.process.wait(timeout=15) == 0


def _open_raw_streams(url, path, count, deadline):
    """`count` SSE requests on raw sockets; returns them once each has its hello."""
    host, port = url.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    selector = selectors.DefaultSelector()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(request.encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, bytearray())
        sockets.append(sock)
    waiting = len(sockets)
    while waiting and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            key.data.extend(key.fileobj.recv(65536))
            if b"event: hello" in key.data:
                selector.unregister(key.fileobj)
                waiting -= 1
    selector.close()
    assert waiting == 0, f"{waiting} streams never said hello"
    return sockets


def test_a_process_holds_one_redis_pubsub_connection_for_a_thousand_streams(
    live_server, visitor, redis_channel, redis_url
):
    name = f"devtone-{uuid.uuid4().hex[:8]}"
    server = live_server(REDIS_URL=f"{redis_url}?client_name={name}")
    path = f"/api/conversations/{visitor.id}/events?token={visitor.token}"
    sockets = _open_raw_streams(server.url, path, 1000, deadline=time.monotonic() + 60)
    try:
        admin = redis.Redis.from_url(redis_url)
        try:
            pubsub = [c for c in admin.client_list() if c.get("name") == name and "P" in c["flags"]]
            subscribers = dict(admin.pubsub_numsub(redis_channel))
        finally:
            admin.close()
        assert len(pubsub) == 1
        assert subscribers[redis_channel.encode()] == 1
    finally:
        for sock in sockets:
            sock.close()

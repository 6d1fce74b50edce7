"""SSE against a real gunicorn + gevent server on a loopback port, with a real SSE client."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from devtone import create_app
from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from tests.live.conftest import stored_seqs

pytestmark = pytest.mark.live


def post(server, visitor, body, client_id=None, session=requests):
    return session.post(
        f"{server.url}/api/conversations/{visitor.id}/messages",
        json={"body": body, "client_id": client_id or str(uuid.uuid4())},
        headers=visitor.headers,
        timeout=30,
    )


def test_twenty_concurrent_posters_fill_seq_1_to_500_and_streams_get_each_once(
    app, live_server, visitor, open_reader
):
    server = live_server()
    early = open_reader(server.url, visitor.id, visitor.token)
    early.wait(lambda r: r.hello is not None)

    def poster(worker):
        with requests.Session() as session:
            answers = [post(server, visitor, f"{worker}/{n}", session=session) for n in range(25)]
        assert {a.status_code for a in answers} == {201}
        return [a.json()["message"]["seq"] for a in answers]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answered = [seq for seqs in pool.map(poster, range(20)) for seq in seqs]

    assert sorted(answered) == list(range(1, 501))
    assert stored_seqs(app, visitor.id) == list(range(1, 501))

    early.wait_for_seq(500)
    early.settle()
    assert early.seqs == list(range(1, 501))

    late = open_reader(server.url, visitor.id, visitor.token, last_event_id=200)
    late.wait_for_seq(500)
    late.settle()
    assert late.hello["cursor"] == 200
    assert late.seqs == list(range(201, 501))


def test_the_same_client_id_posted_concurrently_is_stored_once(app, live_server, visitor):
    server = live_server()
    client_id = str(uuid.uuid4())
    start = threading.Barrier(10)

    def post_same(_):
        start.wait()
        return post(server, visitor, "only once", client_id)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post_same, range(10)))

    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert {a.json()["message"]["seq"] for a in answers} == {1}
    assert {a.json()["message"]["client_id"] for a in answers} == {client_id}
    assert stored_seqs(app, visitor.id) == [1]


def test_fifty_open_streams_hold_none_of_the_two_pooled_connections(
    app, live_server, visitor, open_reader
):
    # With a pool of 2 and a 2 s pool timeout, a stream that kept its connection while
    # waiting would starve the post below into a 500.
    server = live_server(DEVTONE_DB_POOL_SIZE="2", DEVTONE_DB_POOL_TIMEOUT="2")
    readers = [open_reader(server.url, visitor.id, visitor.token) for _ in range(50)]
    for reader in readers:
        reader.wait(lambda r: r.hello is not None and r.pings >= 1)

    answer = post(server, visitor, "still room to write")
    assert answer.status_code == 201
    for reader in readers:
        reader.wait_for_seq(1)
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_a_publish_the_broker_never_delivered_arrives_at_the_next_heartbeat(
    app, live_server, visitor, open_reader
):
    server = live_server()
    reader = open_reader(server.url, visitor.id, visitor.token)
    reader.wait(lambda r: r.pings >= 1)
    # Written by a process of its own whose broker is in-process: the commit lands in the
    # shared database, but the publish goes nowhere the server can hear. That is exactly
    # a dropped publish, seen from the server.
    elsewhere = create_app(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": None}
    )
    with elsewhere.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "sent elsewhere", "x1")
        db.engine.dispose()
    reader.wait_for_seq(1)
    assert reader.seqs == [1]


def _server_side_connections(port: int) -> int:
    """Client sockets the server still holds open (ESTABLISHED or CLOSE_WAIT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if int(local.rsplit(":", 1)[1], 16) == port and state in ("01", "08"):
                count += 1
    return count


def test_streams_end_on_the_server_when_their_clients_go_away(live_server, visitor, open_reader):
    server = live_server()
    port = int(server.url.rsplit(":", 1)[1])
    readers = [open_reader(server.url, visitor.id, visitor.token) for _ in range(5)]
    for reader in readers:
        reader.wait(lambda r: r.hello is not None)
    assert _server_side_connections(port) >= 5
    for reader in readers:
        reader.close()

    deadline = time.monotonic() + 15
    while _server_side_connections(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _server_side_connections(port) == 0

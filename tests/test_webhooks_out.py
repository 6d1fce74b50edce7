"""Webhooks delivered to a real HTTP receiver on a loopback port: signed (the documented
verifiers accept them), retried until a 2xx, in order per conversation, at least once
with one id per event, even when the sending process is killed mid-delivery."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from devtone import webhooks_out
from devtone.domain import conversations, webhook_events
from devtone.domain.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from devtone.extensions import db
from tests.conftest import app_on
from tests.servers import ROOT, stop_process
from tests.webhook_receiver import WebhookReceiver

ALL_TYPES = list(webhook_events.TYPES)


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """An app whose sender may reach the loopback receiver, retrying after 50 ms."""
    with app_on(
        database_url,
        redis_url,
        redis_channel,
        WEBHOOK_ALLOW_PRIVATE=True,
        WEBHOOK_RETRY_AFTER=0.05,
        WEBHOOK_CHECK_EVERY=0.05,
    ) as app:
        yield app


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def hooks(sign_in, admin):
    """The admin's client, to register endpoints as the dashboard would."""
    return sign_in(admin)


def register(hooks, url, events=ALL_TYPES, include_notes=False) -> dict:
    answer = hooks.post(
        "/api/webhooks", json={"url": url, "events": events, "include_notes": include_notes}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def sender_of(app) -> webhooks_out.WebhookSender:
    """The test process's one sender (another would wait for its lease to expire)."""
    return app.extensions.setdefault("tests.webhook_sender", webhooks_out.WebhookSender(app))


def deliver(app, receiver, condition, timeout: float = 15) -> None:
    """Run the sender's turns until the receiver's requests satisfy `condition`."""
    sender = sender_of(app)
    deadline = time.monotonic() + timeout
    while not condition(receiver.received):
        assert time.monotonic() < deadline, [r.event["type"] for r in receiver.received]
        sender.round()
        time.sleep(0.02)


def documented_verifier():
    """The Python verifier of docs/webhooks.md, run as a receiver would copy it."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    code = re.search(r"Python:\n\n```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102
    return namespace["verify"]


def documented_js_verifier(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "webhooks.md").read_text()
    code = re.search(r"JavaScript \(Node\):\n\n```js\n(.*?)```", text, re.S).group(1)
    script = tmp_path / "verify.cjs"
    script.write_text(
        code
        + "\nconst [secret, header, bodyHex] = process.argv.slice(2);\n"
        + "process.stdout.write(String(verify(secret, header, Buffer.from(bodyHex, 'hex'))));\n"
    )
    return script


def stored(app, model) -> list:
    with app.app_context():
        rows = db.session.scalars(select(model).order_by(model.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


# -- every event, signed ---------------------------------------------------------------


def test_every_event_type_arrives_signed_and_the_documented_verifier_accepts_it(
    app, client, hooks, receiver, tmp_path
):
    endpoint = register(hooks, receiver.url, include_notes=True)
    started = client.post("/api/conversations", json={"name": "Zoë <b>"}).get_json()
    conversation_id, token = started["conversation"]["id"], started["token"]
    visitor = {"Authorization": f"Bearer {token}"}
    path = f"/api/conversations/{conversation_id}"
    client.post(f"{path}/messages", json={"body": "Olá, ação?", "client_id": "v1"}, headers=visitor)
    hooks.post(f"{path}/messages", json={"body": "Hi!", "client_id": "a1"})
    hooks.post(f"{path}/messages", json={"body": "VIP", "client_id": "n1", "kind": "note"})
    hooks.post(f"{path}/close")
    client.post(f"{path}/rating", json={"score": 5, "comment": "Ótimo"}, headers=visitor)
    client.post(f"{path}/messages", json={"body": "One more", "client_id": "v2"}, headers=visitor)

    expected = [
        "conversation.created",
        "message.created",  # the visitor's
        "conversation.assigned",  # the agent answering a waiting conversation takes it
        "message.created",
        "message.created",  # the note: this endpoint asked for notes
        "conversation.closed",
        "rating.created",
        "message.created",
        "conversation.reopened",  # the reopening the message caused, in the log's order
    ]
    deliver(app, receiver, lambda got: len(got) >= len(expected))
    time.sleep(0.2)
    assert [event["type"] for event in receiver.events()] == expected

    verify = documented_verifier()
    node = shutil.which("node")
    script = documented_js_verifier(tmp_path) if node else None
    for received in receiver.received:
        event = received.event
        assert received.path == "/hooks"
        assert received.headers["content-type"] == "application/json"
        assert received.headers["devtone-event-id"] == event["id"]
        assert set(event) == {"id", "type", "created_at", "data"}
        header = received.headers["devtone-signature"]
        assert verify(endpoint["secret"], header, received.body)
        assert not verify(endpoint["secret"], header, received.body.replace(b"}", b" }", 1))
        assert not verify("whsec_another", header, received.body)
        if script is not None:
            answer = subprocess.run(
                [node, script, endpoint["secret"], header, received.body.hex()],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert answer.stdout == "true"
    # A timestamp older than five minutes, however well signed, is refused.
    body = receiver.received[0].body
    old = int(time.time()) - 301
    assert not verify(
        endpoint["secret"], webhooks_out.signature(endpoint["secret"], old, body), body
    )
    fresh = webhooks_out.signature(endpoint["secret"], int(time.time()) - 5, body)
    assert verify(endpoint["secret"], fresh, body)
    # Ids never repeat for different events.
    ids = [event["id"] for event in receiver.events()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"evt_[0-9a-f]{24}", i) for i in ids)


def test_the_data_is_the_entity_as_agents_read_it_over_the_api(app, client, hooks, receiver):
    register(hooks, receiver.url)
    started = client.post("/api/conversations", json={"name": "Ada"}).get_json()
    conversation_id = started["conversation"]["id"]
    path = f"/api/conversations/{conversation_id}"
    posted = hooks.post(f"{path}/messages", json={"body": "<i>hi</i> 👋", "client_id": "a"})
    closed = hooks.post(f"{path}/close").get_json()
    deliver(app, receiver, lambda got: len(got) >= 4)
    created, assigned, message, closing = receiver.events()
    assert message["data"] == posted.get_json()["message"]
    assert closing["data"] == closed["conversation"]
    assert assigned["data"]["agent"]["name"] == "Ada Admin"
    assert created["data"]["id"] == conversation_id and "labels" in created["data"]
    # Sent as written: unicode as is, HTML as text.
    assert "👋".encode() in receiver.received[2].body


def test_notes_reach_only_the_endpoints_that_ask_for_them(app, visitor, hooks, receiver):
    with_notes = WebhookReceiver()
    try:
        register(hooks, receiver.url, ["message.created"])
        register(hooks, with_notes.url, ["message.created"], include_notes=True)
        path = f"/api/conversations/{visitor.id}/messages"
        hooks.post(path, json={"body": "private", "client_id": "n", "kind": "note"})
        hooks.post(path, json={"body": "public", "client_id": "t"})
        deliver(app, with_notes, lambda got: len(got) >= 2)
        deliver(app, receiver, lambda got: len(got) >= 1)
        time.sleep(0.2)
        assert [e["data"]["body"] for e in with_notes.events()] == ["private", "public"]
        assert [e["data"]["body"] for e in receiver.events()] == ["public"]
    finally:
        with_notes.stop()


# -- retries, ids, redelivery -------------------------------------------------------------


def test_a_receiver_answering_500_three_times_then_200_gets_the_event_with_one_id(
    app, visitor, hooks, receiver
):
    endpoint = register(hooks, receiver.url, ["message.created"])
    receiver.statuses = [500, 500, 500]
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    deliver(app, receiver, lambda got: len(got) >= 4)
    bodies = {received.body for received in receiver.received}
    ids = {received.headers["devtone-event-id"] for received in receiver.received}
    assert len(bodies) == 1 and len(ids) == 1  # the same event, byte for byte
    deliveries = hooks.get(f"/api/webhooks/{endpoint['id']}/deliveries").get_json()["deliveries"]
    assert [(d["status"], d["attempts"], d["response_code"]) for d in deliveries] == [
        ("delivered", 4, 200)
    ]
    assert deliveries[0]["event_id"] in ids and deliveries[0]["error"] is None
    endpoints = hooks.get("/api/webhooks").get_json()["webhooks"]
    assert endpoints[0]["enabled"] and endpoints[0]["failing_since"] is None


def test_a_redelivered_event_carries_the_same_id_and_body(app, visitor, hooks, receiver):
    endpoint = register(hooks, receiver.url, ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    deliver(app, receiver, lambda got: len(got) >= 1)
    listing = f"/api/webhooks/{endpoint['id']}/deliveries"
    delivery = hooks.get(listing).get_json()["deliveries"][0]
    answer = hooks.post(f"{listing}/{delivery['id']}/redeliver")
    assert answer.status_code == 202
    assert answer.get_json()["delivery"]["status"] == "pending"
    deliver(app, receiver, lambda got: len(got) >= 2)
    first, again = receiver.received
    assert again.body == first.body
    assert again.headers["devtone-event-id"] == first.headers["devtone-event-id"]
    assert hooks.get(listing).get_json()["deliveries"][0]["attempts"] == 2


def test_a_redelivery_of_another_endpoints_delivery_is_not_found(app, visitor, hooks, receiver):
    first = register(hooks, receiver.url, ["message.created"])
    second = register(hooks, receiver.url + "?second", ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    deliver(app, receiver, lambda got: len(got) >= 2)
    delivery = hooks.get(f"/api/webhooks/{first['id']}/deliveries").get_json()["deliveries"][0]
    answer = hooks.post(f"/api/webhooks/{second['id']}/deliveries/{delivery['id']}/redeliver")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


# -- order -------------------------------------------------------------------------------


def test_order_per_conversation_holds_while_an_endpoint_fails(app, start_visitor, hooks, receiver):
    register(hooks, receiver.url, ["message.created"])
    first, other = start_visitor("Ada"), start_visitor("Bob")
    failures = {"left": 3}

    def answer(event):  # the first message of Ada's conversation fails three times
        if event["data"]["body"] == "a1" and failures["left"]:
            failures["left"] -= 1
            return 503
        return 200

    receiver.answer = answer
    with app.app_context():
        conversations.post_message(first.id, _visitor(first), "a1", "1")
        conversations.post_message(first.id, _visitor(first), "a2", "2")
        conversations.post_message(other.id, _visitor(other), "b1", "3")
        conversations.post_message(first.id, _visitor(first), "a3", "4")
    deliver(app, receiver, lambda got: {"a1", "a2", "a3", "b1"} <= _bodies(got) and
            [r.event["data"]["body"] for r in got].count("a1") == 4)  # fmt: skip
    time.sleep(0.2)
    arrived = [r.event["data"]["body"] for r in receiver.received]
    assert arrived.count("a1") == 4 and arrived.count("a2") == arrived.count("a3") == 1
    last_a1 = len(arrived) - 1 - arrived[::-1].index("a1")
    # Ada's later messages waited for her first; Bob's did not wait for hers.
    assert last_a1 < arrived.index("a2") < arrived.index("a3")
    assert arrived.index("b1") < last_a1


# -- giving up, disabling ------------------------------------------------------------------


def test_an_endpoint_failing_for_the_whole_window_is_disabled_with_the_reason(
    app, visitor, hooks, receiver
):
    app.config["WEBHOOK_GIVE_UP_AFTER"] = 0.3
    endpoint = register(hooks, receiver.url, ["message.created"])
    receiver.answer = lambda event: 500
    deadline = time.monotonic() + 10
    sender = sender_of(app)
    posted = 0
    while hooks.get("/api/webhooks").get_json()["webhooks"][0]["enabled"]:
        assert time.monotonic() < deadline
        with app.app_context():  # events keep coming; none is taken
            conversations.post_message(visitor.id, _visitor(visitor), "Hello", f"c{posted}")
        posted += 1
        sender.round()
        time.sleep(0.1)
    shown = hooks.get("/api/webhooks").get_json()["webhooks"][0]
    assert shown["disabled_at"] is not None
    assert (
        "HTTP 500" in shown["disabled_reason"]
        and "No delivery succeeded" in shown["disabled_reason"]
    )
    listing = f"/api/webhooks/{endpoint['id']}/deliveries"
    delivery = hooks.get(listing).get_json()["deliveries"][-1]  # the oldest: given up
    assert delivery["status"] == "failed" and delivery["response_code"] == 500
    tried = len(receiver.received)
    sender.round()
    assert len(receiver.received) == tried  # a disabled endpoint is sent nothing
    # A redelivery says the receiver works again: it enables the endpoint.
    receiver.answer = lambda event: 200
    assert hooks.post(f"{listing}/{delivery['id']}/redeliver").status_code == 202
    assert hooks.get("/api/webhooks").get_json()["webhooks"][0]["enabled"]
    deliver(app, receiver, lambda got: len(got) > tried)
    deadline = time.monotonic() + 10
    while hooks.get(listing).get_json()["deliveries"][-1]["status"] != "delivered":
        assert time.monotonic() < deadline
        sender.round()


def test_the_address_is_checked_again_when_sending(app, visitor, hooks, receiver):
    endpoint = register(hooks, receiver.url, ["message.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # as if the name now resolved to 127.0.0.1
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    sender = sender_of(app)
    listing = f"/api/webhooks/{endpoint['id']}/deliveries"
    deadline = time.monotonic() + 10
    while (
        not hooks.get(listing).get_json()["deliveries"]
        or not hooks.get(listing).get_json()["deliveries"][0]["attempts"]
    ):
        assert time.monotonic() < deadline
        sender.round()
        time.sleep(0.05)
    delivery = hooks.get(listing).get_json()["deliveries"][0]
    assert delivery["status"] == "pending" and "127.0.0.1" in delivery["error"]
    assert delivery["response_code"] is None
    assert receiver.received == []


# -- what is written, and when -------------------------------------------------------------


def test_no_event_is_written_while_no_endpoint_is_enabled(app, visitor, hooks):
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    assert stored(app, WebhookEvent) == []


def test_an_event_commits_with_its_change_and_a_repeat_writes_none(app, visitor, hooks, receiver):
    register(hooks, receiver.url, ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")  # a retry
    events = stored(app, WebhookEvent)
    assert [(e.type, e.conversation_id) for e in events] == [("message.created", visitor.id)]
    assert json.loads(events[0].body)["data"]["client_id"] == "c1"


def test_an_endpoint_registered_in_another_process_is_seen_within_the_window(
    app, visitor, receiver
):
    with app.app_context():
        assert webhook_events.wanted() is False  # read once, kept for the window
        db.session.add(
            WebhookEndpoint(url=receiver.url, events='["message.created"]', include_notes=False,
                            secret="whsec_x")
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
        conversations.post_message(visitor.id, _visitor(visitor), "unseen", "c1")
        assert stored(app, WebhookEvent) == []  # within the window: not known yet
        webhook_events.endpoints_known()._read_at -= app.config["WEBHOOK_ENDPOINTS_CHECK_EVERY"]
        conversations.post_message(visitor.id, _visitor(visitor), "seen", "c2")
    assert [json.loads(e.body)["data"]["body"] for e in stored(app, WebhookEvent)] == ["seen"]


# -- a sender killed mid-delivery ----------------------------------------------------------


def test_a_sender_killed_mid_delivery_loses_nothing_and_resends_with_the_same_id(
    app, visitor, hooks, receiver, tmp_path
):
    register(hooks, receiver.url, ["message.created"])
    with app.app_context():
        for n in range(3):
            conversations.post_message(visitor.id, _visitor(visitor), f"m{n}", f"c{n}")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        DEVTONE_INSTANCE_PATH=str(tmp_path / "instance"),
        DEVTONE_WEBHOOK_ALLOW_PRIVATE="1",
        DEVTONE_WEBHOOK_LEASE_SECONDS="2",
        DEVTONE_WEBHOOK_CHECK_EVERY="0.1",
        DEVTONE_WEBHOOK_TIMEOUT="30",
    )
    receiver.hold()  # the receiver takes the first request and never answers it
    flask = str(Path(sys.executable).with_name("flask"))
    worker = subprocess.Popen(
        [flask, "--app", "devtone", "webhooks-out"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        receiver.wait_for(lambda got: len(got) >= 1, timeout=30)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        stop_process(worker, signal.SIGKILL)
    receiver.release()
    # Another process takes the lease over once it expires, and sends what was not marked.
    deliver(app, receiver, lambda got: {"m0", "m1", "m2"} <= _bodies(got), timeout=30)
    events = stored(app, WebhookEvent)
    by_id = {}
    for received in receiver.received:
        event_id = received.headers["devtone-event-id"]
        assert by_id.setdefault(event_id, received.body) == received.body  # same id, same body
    assert set(by_id) == {event.public_id for event in events}
    assert [r.event["data"]["body"] for r in receiver.received][:2] == ["m0", "m0"]
    assert all(d.delivered_at is not None for d in stored(app, WebhookDelivery))


def _bodies(received) -> set[str]:
    return {r.event["data"]["body"] for r in received}


def _visitor(session):
    from devtone.domain.visitors import Visitor

    return Visitor(session.token)


def test_events_are_counted_once_per_endpoint(app, visitor, hooks, receiver):
    register(hooks, receiver.url, ["message.created"])
    register(hooks, receiver.url + "?again", ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "Hello", "c1")
    deliver(app, receiver, lambda got: len(got) >= 2)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        db.session.remove()


def test_posts_ask_nothing_about_endpoints_while_the_answer_is_fresh(app, visitor, hooks):
    from sqlalchemy import event

    statements: list[str] = []
    with app.app_context():
        webhook_events.endpoints_known().refresh()  # none: read once, kept for the window

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            for n in range(3):
                conversations.post_message(visitor.id, _visitor(visitor), f"m{n}", f"c{n}")
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    assert statements  # the posts ran
    assert not [s for s in statements if "webhook" in s.lower()]


def test_a_refused_change_writes_no_event(app, visitor, hooks, receiver):
    register(hooks, receiver.url)
    path = f"/api/conversations/{visitor.id}"
    hooks.post(f"{path}/close")
    refused = hooks.post(f"{path}/messages", json={"body": "late", "client_id": "x"})
    assert refused.status_code == 409
    assert [event.type for event in stored(app, WebhookEvent)] == ["conversation.closed"]


def test_events_older_than_a_week_are_pruned_with_their_deliveries(app, visitor, hooks, receiver):
    from datetime import timedelta

    from devtone.domain import webhook_deliveries
    from devtone.domain.models import utcnow

    register(hooks, receiver.url, ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "old", "c1")
    deliver(app, receiver, lambda got: len(got) >= 1)
    with app.app_context():
        assert webhook_deliveries.prune(utcnow() + timedelta(days=6)) == 0
        assert webhook_deliveries.prune(utcnow() + timedelta(days=7, minutes=1)) == 1
    assert stored(app, WebhookEvent) == [] and stored(app, WebhookDelivery) == []


# -- receivers that do not answer ------------------------------------------------------


class SilentReceiver:
    """A loopback server that takes every connection and the request, and never answers
    (or, `trickle`, sends the start of an answer one byte every 50 ms, for ever); it counts
    the connections and the bytes it got out before the sender hung up."""

    def __init__(self, trickle: bool = False):
        import socket
        import threading

        self.connections = 0
        self.trickled = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hooks"

        def serve(connection):
            with connection:
                connection.recv(65536)
                while trickle and not self._stop.wait(0.05):
                    try:
                        connection.sendall(b"HTTP/1.1 200 OK\r\nX: "[: self.trickled + 1][-1:])
                    except OSError:
                        return  # the sender hung up
                    self.trickled += 1
                self._stop.wait(30)

        def accept():
            while not self._stop.is_set():
                try:
                    connection, _ = self._listener.accept()
                except OSError:
                    return
                self.connections += 1
                threading.Thread(target=serve, args=(connection,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()

    def stop(self):
        self._stop.set()
        self._listener.close()


@pytest.fixture
def silent():
    receivers = []

    def make(trickle=False):
        receivers.append(SilentReceiver(trickle))
        return receivers[-1]

    yield make
    for receiver in receivers:
        receiver.stop()


def test_an_endpoint_that_does_not_answer_costs_one_timeout_a_turn_not_one_per_event(
    app, start_visitor, hooks, receiver, silent
):
    app.config["WEBHOOK_TIMEOUT"] = 0.3
    down = silent()
    register(hooks, down.url, ["message.created"])
    register(hooks, receiver.url, ["message.created"])
    visitors_ = [start_visitor(f"Visitor {n}") for n in range(4)]
    with app.app_context():
        for n, visitor in enumerate(visitors_):
            conversations.post_message(visitor.id, _visitor(visitor), f"m{n}", str(n))
    sender_of(app).round()
    # The healthy endpoint got every event in that one turn; the silent one was tried once.
    assert _bodies(receiver.received) == {"m0", "m1", "m2", "m3"}
    assert down.connections == 1


def test_a_receiver_trickling_its_answer_is_hung_up_on(app, visitor, hooks, silent):
    # Each byte comes within the timeout, so only a deadline on the whole exchange ends it
    # (twice the timeout), long before the sender's lease could run out.
    app.config["WEBHOOK_TIMEOUT"] = 0.2
    slow = silent(trickle=True)
    register(hooks, slow.url, ["message.created"])
    with app.app_context():
        conversations.post_message(visitor.id, _visitor(visitor), "hello", "1")
    sender_of(app).round()
    [delivery] = stored(app, WebhookDelivery)
    assert delivery.delivered_at is None and delivery.attempts == 1
    assert 0 < slow.trickled < 40  # 0.4 s of it, not the 30 s it would have gone on

"""A bot (an API token with messages:write) reaches the visitor on every tier, against a
real gunicorn + gevent server; a revoked token is refused at once, its stream ended."""

import json
import threading
import time
import uuid

import pytest
import requests
import sseclient

from devtone.domain import api_tokens

pytestmark = pytest.mark.live


@pytest.fixture
def bot(app, admin):
    """A token with both conversation scopes, made through the domain."""
    with app.app_context():
        made, token = api_tokens.create_token(
            admin.identity, "Order bot", ["conversations:read", "messages:write"]
        )
    return {"id": made["id"], "headers": {"Authorization": f"Bearer {token}"}}


def post_as_bot(server, bot, conversation_id, body):
    answer = requests.post(
        f"{server.url}/api/conversations/{conversation_id}/messages",
        json={"body": body, "client_id": str(uuid.uuid4())},
        headers=bot["headers"],
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    message = answer.json()["message"]
    assert (message["sender"], message["author"]["name"]) == ("bot", "Order bot")
    return message


def test_a_bots_message_reaches_the_visitor_over_sse(live_server, visitor, bot, open_reader):
    server = live_server()
    reader = open_reader(server.url, visitor.id, visitor.token)
    reader.wait(lambda r: r.hello is not None)
    message = post_as_bot(server, bot, visitor.id, "Your order has shipped.")
    reader.wait_for_seq(message["seq"], timeout=10)
    reader.settle()
    assert reader.seqs == [message["seq"]]


def test_a_bots_message_answers_the_visitors_waiting_long_poll(live_server, visitor, bot):
    server = live_server()
    answered = {}

    def wait():
        started = time.monotonic()
        answered["response"] = requests.get(
            f"{server.url}/api/conversations/{visitor.id}/messages",
            params={"after": 0, "wait": 20},
            headers=visitor.headers,
            timeout=30,
        )
        answered["took"] = time.monotonic() - started

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1)  # the long-poll is waiting by now
    message = post_as_bot(server, bot, visitor.id, "Tracking: 123")
    waiter.join(timeout=30)
    page = answered["response"].json()
    assert [(m["seq"], m["sender"], m["author"]["name"]) for m in page["messages"]] == [
        (message["seq"], "bot", "Order bot")
    ]
    assert answered["took"] < 15, "answered by the post, not by the end of the wait"


def test_a_bots_message_is_in_the_visitors_next_poll(live_server, visitor, bot):
    server = live_server()
    message = post_as_bot(server, bot, visitor.id, "Anything else?")
    page = requests.get(
        f"{server.url}/api/conversations/{visitor.id}/messages",
        params={"after": 0, "wait": 0},
        headers=visitor.headers,
        timeout=10,
    ).json()
    assert [m["seq"] for m in page["messages"]] == [message["seq"]]
    assert page["messages"][0]["sender"] == "bot"
    assert page["conversation"]["agent"] is None and page["conversation"]["status"] == "waiting"


def test_a_revoked_token_is_refused_at_once_and_its_open_stream_ends(
    app, live_server, visitor, bot, admin
):
    server = live_server()
    stream = requests.get(
        f"{server.url}/api/conversations/{visitor.id}/events",
        headers={**bot["headers"], "Accept": "text/event-stream"},
        stream=True,
        timeout=(5, 30),
    )
    assert stream.status_code == 200
    events = sseclient.SSEClient(stream.iter_content(chunk_size=None)).events()
    assert next(events).event == "hello"
    with app.app_context():
        api_tokens.revoke_token(admin.identity, bot["id"])
    refused = requests.get(
        f"{server.url}/api/conversations/{visitor.id}", headers=bot["headers"], timeout=10
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    started = time.monotonic()
    kinds = [json.dumps(event.event) for event in events]  # the stream ends by itself
    assert time.monotonic() - started < 10, kinds
    stream.close()

"""Abuse limits: conversation starts per address, messages per conversation, open streams
per conversation and per process. Every refusal is a 429 in the JSON error shape with
Retry-After, stores nothing, and leaves other conversations and addresses alone."""

import threading
import time
import uuid

import pytest
import requests
from flask_limiter.util import get_qualified_name

from devtone import config, create_app
from devtone.domain import conversations
from devtone.extensions import db, limiter
from devtone.feeds import end_streams
from devtone.web import limits
from tests.conftest import app_on, counted_in_redis, stored_counts

RETRY_AFTER_S = 2  # one poll interval, below

LIMITS = {
    "CONVERSATION_RATE_LIMIT": "3 per minute",
    "MESSAGE_RATE_LIMIT": "3 per minute",
    "TYPING_RATE_LIMIT": "4 per minute",
    "MARK_RATE_LIMIT": "4 per minute",
    "STREAMS_PER_CONVERSATION": 2,
    "MAX_STREAMS": 3,
    "AGENT_STREAMS": 1,
    "POLL_INTERVAL": RETRY_AFTER_S,
}


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """The usual test app with small limits, counted in Redis on the production pair."""
    counted = counted_in_redis(redis_url, redis_channel)
    with app_on(database_url, redis_url, redis_channel, **counted, **LIMITS) as app:
        yield app


def assert_refused(answer, code):
    """429, the JSON error shape with `code`, and a Retry-After in whole seconds."""
    assert answer.status_code == 429, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == code
    assert set(answer.get_json()["error"]) == {"code", "message", "field"}
    assert int(answer.headers["Retry-After"]) >= 1


def start(client, address="198.51.100.1"):
    return client.post(
        "/api/conversations", json={"name": "Ada"}, environ_base={"REMOTE_ADDR": address}
    )


def post(client, visitor, body="hi", headers=None):
    return client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": body, "client_id": str(uuid.uuid4())},
        headers=headers or visitor.headers,
    )


def stream(client, conversation_id, token):
    """An SSE response whose first frame (hello) has been read: the stream is open."""
    answer = client.get(
        f"/api/conversations/{conversation_id}/events?token={token}", buffered=False
    )
    if answer.status_code == 200:
        assert b"event: hello" in next(answer.response)
    return answer


def dashboard_stream(agent_client):
    answer = agent_client.get("/api/dashboard/events", buffered=False)
    if answer.status_code == 200:
        assert b"event: hello" in next(answer.response)
    return answer


# -- rates ------------------------------------------------------------------------------


def test_starting_conversations_past_the_limit_is_refused_per_address_and_stores_nothing(
    app, client
):
    for _ in range(3):
        assert start(client).status_code == 201
    before = stored_counts(app)
    assert_refused(start(client), "too_many_requests")
    assert stored_counts(app) == before
    assert start(client, address="198.51.100.2").status_code == 201


def test_a_visitor_flooding_their_conversation_gets_429_and_others_are_unaffected(
    app, client, start_visitor
):
    flooder, other = start_visitor("Flo"), start_visitor("Ada")
    for n in range(3):
        assert post(client, flooder, f"m{n}").status_code == 201
    before = stored_counts(app)
    refused = post(client, flooder, "one too many")
    assert_refused(refused, "too_many_messages")
    assert int(refused.headers["Retry-After"]) <= 60
    assert stored_counts(app) == before
    assert post(client, other).status_code == 201


def test_typing_signals_past_the_limit_get_429_and_the_other_side_may_still_type(
    client, start_visitor, agent, sign_in
):
    visitor = start_visitor()

    def typing(value, headers=visitor.headers, send=client.post):
        return send(
            f"/api/conversations/{visitor.id}/typing", json={"typing": value}, headers=headers
        )

    for n in range(4):
        assert typing(n % 2 == 0).status_code == 204
    assert_refused(typing(True), "too_many_typing_signals")
    maria = sign_in(agent)
    assert typing(True, headers={}, send=maria.post).status_code == 204


def test_marks_past_the_limit_get_429_change_nothing_and_the_other_side_may_still_mark(
    app, client, start_visitor, agent, sign_in
):
    visitor = start_visitor()
    with app.app_context():
        for n in range(1, 5):
            conversations.post_message(visitor.id, agent.identity, f"answer {n}")

    def marks(body, path="marks", headers=visitor.headers, send=client.post):
        return send(f"/api/conversations/{visitor.id}/{path}", json=body, headers=headers)

    def visitor_marks():
        read = client.get(f"/api/conversations/{visitor.id}/messages", headers=visitor.headers)
        return read.get_json()["conversation"]["marks"]["visitor"]

    for seq in (1, 2, 3):
        assert marks({"delivered": seq}).status_code == 200
    assert marks({"seq": 3}, path="read").status_code == 200  # …/read counts with them
    assert_refused(marks({"seen": 4}), "too_many_marks")
    assert_refused(marks({"seq": 4}, path="read"), "too_many_marks")
    assert visitor_marks() == {"delivered": 3, "seen": 3}
    maria = sign_in(agent)
    assert marks({"seen": 4}, headers={}, send=maria.post).status_code == 200


def test_an_agent_can_still_answer_a_visitor_who_flooded_the_conversation(
    client, start_visitor, agent, sign_in
):
    visitor = start_visitor()
    for _ in range(3):
        assert post(client, visitor).status_code == 201
    assert_refused(post(client, visitor), "too_many_messages")
    maria = sign_in(agent)
    answer = maria.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "please slow down", "client_id": str(uuid.uuid4())},
    )
    assert answer.status_code == 201


def test_an_agent_flooding_a_conversation_is_limited_too(client, start_visitor, agent, sign_in):
    visitor = start_visitor()
    maria = sign_in(agent)

    def answer():
        return maria.post(
            f"/api/conversations/{visitor.id}/messages",
            json={"body": "hello", "client_id": str(uuid.uuid4())},
        )

    for _ in range(3):
        assert answer().status_code == 201
    assert_refused(answer(), "too_many_messages")
    assert post(client, visitor).status_code == 201  # the visitor's allowance is their own


def test_strangers_cannot_use_up_a_conversations_message_allowance(client, start_visitor):
    visitor, stranger = start_visitor("Ada"), start_visitor("Eve")
    # Refused for their wrong token, then for their own allowance: never stored.
    refusals = [post(client, visitor, headers=stranger.headers).status_code for _ in range(5)]
    assert refusals == [404, 404, 404, 429, 429]
    assert post(client, visitor).status_code == 201


def test_the_hot_endpoints_skip_flask_limiters_search_for_route_limits(
    app, client, visitor, monkeypatch
):
    searched = []
    resolve = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(
        limiter.limit_manager,
        "resolve_limits",
        lambda app, endpoint, *args, **kwargs: (
            searched.append(endpoint) or resolve(app, endpoint, *args, **kwargs)
        ),
    )
    assert post(client, visitor).status_code == 201
    poll = client.get(f"/api/conversations/{visitor.id}/messages", headers=visitor.headers)
    assert poll.status_code == 200
    assert searched == []
    client.get(f"/api/conversations/{visitor.id}", headers=visitor.headers)
    assert searched == ["api_conversations.get_conversation"]  # any other endpoint is


def test_no_hot_endpoint_carries_a_route_limit_the_skip_would_hide(app):
    for endpoint in limits.NO_ROUTE_LIMITS:
        view = app.view_functions[endpoint]
        assert get_qualified_name(view) not in limiter._marked_for_limiting
        assert not limiter.limit_manager.has_hints(endpoint)
    assert not app.config.get("RATELIMIT_DEFAULT")
    assert not app.config.get("RATELIMIT_APPLICATION")


def test_sign_in_attempts_past_the_limit_get_429_with_retry_after(app, client, agent):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    form = {"email": agent.email, "password": "wrong"}
    assert client.post("/dashboard/login", data=form).status_code == 400  # no CSRF token
    refused = client.post("/dashboard/login", data=form)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "key",
    ["DEVTONE_CONVERSATION_RATE_LIMIT", "DEVTONE_MESSAGE_RATE_LIMIT"],
)
def test_a_rate_limit_that_is_not_flask_limiter_notation_fails_at_start(tmp_path, key):
    with pytest.raises(config.ConfigError, match=key):
        config.load({key: "lots"}, str(tmp_path))


@pytest.mark.parametrize(
    "key", ["DEVTONE_STREAMS_PER_CONVERSATION", "DEVTONE_MAX_STREAMS", "DEVTONE_AGENT_STREAMS"]
)
def test_a_stream_limit_below_one_fails_at_start(tmp_path, key):
    with pytest.raises(config.ConfigError, match=key):
        config.load({key: "0"}, str(tmp_path))


# -- open streams -----------------------------------------------------------------------


def test_a_stream_past_the_conversations_limit_gets_429_and_other_conversations_open(
    client, start_visitor
):
    crowded, other = start_visitor("Ada"), start_visitor("Bo")
    held = [stream(client, crowded.id, crowded.token) for _ in range(2)]
    refused = stream(client, crowded.id, crowded.token)
    assert_refused(refused, "too_many_streams")
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert refused.content_type == "application/json"
    other_stream = stream(client, other.id, other.token)
    assert other_stream.status_code == 200
    for answer in [*held, other_stream]:
        answer.close()


def test_a_closed_stream_gives_its_slot_back(app, client, visitor):
    first, second = (stream(client, visitor.id, visitor.token) for _ in range(2))
    assert stream(client, visitor.id, visitor.token).status_code == 429
    first.close()
    assert app.extensions["devtone.streams"].open_on(visitor.id) == 1
    third = stream(client, visitor.id, visitor.token)
    assert third.status_code == 200
    for answer in (second, third):
        answer.close()
    assert app.extensions["devtone.streams"].open == 0


def test_a_stream_ended_by_the_server_gives_its_slot_back(app, client, visitor):
    answer = stream(client, visitor.id, visitor.token)
    end_streams(app)  # what a graceful shutdown does
    list(answer.response)  # the stream finishes by itself
    assert app.extensions["devtone.streams"].open == 0


def test_a_head_request_for_a_stream_holds_no_slot(app, client, visitor):
    url = f"/api/conversations/{visitor.id}/events?token={visitor.token}"
    for _ in range(3):
        assert client.head(url).status_code == 200
    assert app.extensions["devtone.streams"].open == 0


def test_long_poll_waits_count_toward_the_conversations_limit_and_polls_do_not(client, visitor):
    url = f"/api/conversations/{visitor.id}/messages?token={visitor.token}&after=0"
    held = [stream(client, visitor.id, visitor.token) for _ in range(2)]
    assert_refused(client.get(url + "&wait=5"), "too_many_streams")
    assert client.get(url + "&wait=0").status_code == 200
    for answer in held:
        answer.close()


def test_a_strangers_long_poll_on_a_conversation_at_its_limit_is_404_as_on_a_missing_one(
    client, start_visitor
):
    visitor, stranger = start_visitor("Ada"), start_visitor("Eve")
    held = [stream(client, visitor.id, visitor.token) for _ in range(2)]

    def long_poll(conversation_id):
        url = f"/api/conversations/{conversation_id}/messages?after=0&wait=5"
        return client.get(f"{url}&token={stranger.token}")

    # A 429 here would tell the stranger the conversation exists, and that it is busy.
    busy, missing = long_poll(visitor.id), long_poll(stranger.id + 1000)
    assert busy.status_code == missing.status_code == 404
    assert busy.get_json() == missing.get_json()
    for answer in held:
        answer.close()


def test_a_waiting_long_poll_holds_a_slot_until_it_answers(app, client, visitor):
    url = f"/api/conversations/{visitor.id}/messages?token={visitor.token}&after=0&wait=1"
    slots = app.extensions["devtone.streams"]
    answers = []
    waiters = [
        threading.Thread(target=lambda: answers.append(app.test_client().get(url)))
        for _ in range(2)
    ]
    for waiter in waiters:
        waiter.start()
    deadline = time.monotonic() + 5
    while slots.open_on(visitor.id) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert_refused(stream(client, visitor.id, visitor.token), "too_many_streams")
    for waiter in waiters:
        waiter.join()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert slots.open == 0
    stream(client, visitor.id, visitor.token).close()


def test_visitors_filling_the_process_never_push_an_agent_off_live_updates(
    app, client, start_visitor, agent, sign_in
):
    first, second, third, fourth = (start_visitor(name) for name in ("Ada", "Bo", "Cy", "Di"))
    maria = sign_in(agent)
    held = [stream(client, v.id, v.token) for v in (first, second, third)]
    assert [answer.status_code for answer in held] == [200, 200, 200]
    assert_refused(stream(client, fourth.id, fourth.token), "too_many_streams")
    # The process is full of visitors' streams: the agents' reserve is still there.
    dashboard = dashboard_stream(maria)
    assert dashboard.status_code == 200
    assert_refused(dashboard_stream(maria), "too_many_streams")  # the reserve has its size
    assert_refused(maria.get("/api/dashboard/snapshot?wait=5"), "too_many_streams")
    dashboard.close()  # the reserve's slot goes back to agents, never to visitors
    assert_refused(stream(client, fourth.id, fourth.token), "too_many_streams")
    transcript = maria.get(f"/api/conversations/{first.id}/events", buffered=False)
    assert transcript.status_code == 200  # an agent's transcript comes from the reserve too
    transcript.close()
    held.pop().close()
    assert stream(client, fourth.id, fourth.token).status_code == 200


def test_an_agents_transcript_does_not_use_the_visitors_allowance_on_the_conversation(
    client, visitor, agent, sign_in
):
    maria = sign_in(agent)
    transcript = maria.get(f"/api/conversations/{visitor.id}/events", buffered=False)
    assert transcript.status_code == 200
    held = [stream(client, visitor.id, visitor.token) for _ in range(2)]
    assert [answer.status_code for answer in held] == [200, 200]
    for answer in [transcript, *held]:
        answer.close()


def test_a_real_server_frees_the_slot_of_a_client_that_went_away(live_server, visitor):
    server = live_server(DEVTONE_STREAMS_PER_CONVERSATION="1", DEVTONE_POLL_INTERVAL="1")
    url = f"{server.url}/api/conversations/{visitor.id}/events?token={visitor.token}"
    first = requests.get(url, stream=True, timeout=10)
    assert first.status_code == 200
    refused = requests.get(url, stream=True, timeout=10)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "too_many_streams"
    first.close()
    # The server notices at its next write (a ping every 0.5 s), then the slot is free.
    deadline = time.monotonic() + 5
    while True:
        again = requests.get(url, stream=True, timeout=10)
        again.close()
        if again.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert again.status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_conversations_stream_limit_holds_across_processes_sharing_redis(live_server, visitor):
    """Two servers, one Redis: a visitor cannot open the conversation's allowance on each."""
    one, other = (
        live_server(DEVTONE_STREAMS_PER_CONVERSATION="1", DEVTONE_POLL_INTERVAL="1")
        for _ in range(2)
    )
    path = f"/api/conversations/{visitor.id}/events?token={visitor.token}"
    first = requests.get(one.url + path, stream=True, timeout=10)
    assert first.status_code == 200
    refused = requests.get(other.url + path, stream=True, timeout=10)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_streams"
    first.close()
    deadline = time.monotonic() + 5  # the first server notices at its next ping (0.5 s)
    while True:
        again = requests.get(other.url + path, stream=True, timeout=10)
        again.close()
        if again.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert again.status_code == 200


def test_a_hung_message_counter_costs_one_post_its_timeout_and_the_next_posts_nothing(
    database_url, silent_server
):
    # Redis takes the connection and answers nothing: each post used to wait out the
    # client's 5 s timeout (and its retries) before being let through uncounted.
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": silent_server.url("redis"),
            "REDIS_TIMEOUT": 0.2,
        }
    )
    with app.app_context():
        db.create_all()
        conversation, token = conversations.start_conversation("Ada")
    client = app.test_client()
    seconds = []
    for n in range(5):
        started = time.monotonic()
        answer = client.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"body": f"m{n}", "client_id": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {token}"},
        )
        seconds.append(time.monotonic() - started)
        assert answer.status_code == 201
    assert seconds[0] < 1  # the one that found the counter silent: its 0.2 s timeout
    assert max(seconds[1:]) < 0.1  # the others did not ask it
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

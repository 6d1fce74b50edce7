"""GET /metrics: a bearer token guards it, and its counts match what really happened."""

import threading
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.live.conftest import SseReader

TOKEN = "metrics-token-for-tests"


def scrape(url, token=TOKEN):
    answer = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            samples[key] = samples.get(key, 0) + sample.value
    return samples


def value(samples, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        v
        for (sample_name, sample_labels), v in samples.items()
        if sample_name == name and labels.items() <= dict(sample_labels).items()
    )


def wait_for(url, predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(url)
        if predicate(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


@pytest.mark.live
def test_metrics_count_a_scripted_session_of_two_streams_a_long_poll_ten_messages_and_a_fallback(
    live_server, visitor, tmp_path
):
    server = live_server(
        DEVTONE_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus")
    )
    open_sse = lambda s: value(s, "devtone_open_streams", kind="conversation", tier="sse")  # noqa: E731
    waiting = lambda s: value(s, "devtone_open_streams", kind="conversation", tier="longpoll")  # noqa: E731

    readers = [SseReader(server.url, visitor.id, visitor.token) for _ in range(2)]
    for reader in readers:
        reader.wait(lambda r: r.hello is not None)
    poll_answer = {}

    def long_poll():
        poll_answer["response"] = requests.get(
            f"{server.url}/api/conversations/{visitor.id}/messages",
            params={"after": 0, "wait": 20},
            headers=visitor.headers,
            timeout=30,
        )

    poller = threading.Thread(target=long_poll)
    poller.start()
    during = wait_for(server.url, lambda s: waiting(s) == 1)
    assert open_sse(during) == 2
    assert waiting(during) == 1

    with requests.Session() as session:
        for n in range(10):
            answer = session.post(
                f"{server.url}/api/conversations/{visitor.id}/messages",
                json={"body": f"message {n}", "client_id": str(uuid.uuid4())},
                headers=visitor.headers,
                timeout=10,
            )
            assert answer.status_code == 201
    poller.join(30)
    assert [m["seq"] for m in poll_answer["response"].json()["messages"]] == [1]
    for reader in readers:
        reader.wait_for_seq(10)
    report = requests.post(
        f"{server.url}/api/realtime/report",
        json={"from": "sse", "to": "longpoll", "reason": "timeout", "kind": "conversation"},
        timeout=10,
    )
    assert report.status_code == 204

    after = wait_for(server.url, lambda s: waiting(s) == 0)
    assert value(after, "devtone_messages_posted_total") == 10
    assert value(after, "devtone_entries_delivered_total", kind="conversation", tier="sse") == 20
    assert (
        value(after, "devtone_entries_delivered_total", kind="conversation", tier="longpoll") == 1
    )
    assert value(after, "devtone_tier_changes_total", **{"from": "sse", "to": "longpoll"}) == 1
    assert value(after, "devtone_tier_changes_total", reason="timeout") == 1
    assert open_sse(after) == 2
    assert waiting(after) == 0
    assert value(after, "devtone_connections_closed_total", tier="longpoll", reason="answered") == 1
    # Every live entry's trip from commit to write was timed: 2 streams x 10, 1 long-poll.
    assert value(after, "devtone_commit_to_write_seconds_count") == 21
    assert value(after, "devtone_catch_up_reads_total", reason="backlog") == 2

    for reader in readers:
        reader.close()
    # The server notices at its next ping (0.5 s) that the clients went away.
    gone = wait_for(server.url, lambda s: open_sse(s) == 0)
    assert open_sse(gone) == 0
    assert value(gone, "devtone_connections_closed_total", tier="sse", reason="client_gone") == 2


@pytest.mark.live
def test_metrics_answer_401_without_the_token(live_server):
    server = live_server(DEVTONE_METRICS_TOKEN=TOKEN)
    answer = requests.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_token"


@pytest.fixture
def metrics_client(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app.test_client()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", "Bearer ü"],
)
def test_metrics_refuse_a_missing_or_wrong_token_with_401_in_the_error_shape(
    metrics_client, header
):
    headers = {"Authorization": header} if header else {}
    answer = metrics_client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.json == {
        "error": {
            "code": "invalid_token",
            "message": answer.json["error"]["message"],
            "field": None,
        }
    }
    assert "devtone_" not in answer.get_data(as_text=True)


def test_metrics_answer_404_when_no_token_is_configured(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404
    assert client.get("/metrics").status_code == 404


def test_metrics_with_the_token_are_prometheus_text(metrics_client):
    answer = metrics_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    names = {
        family.name for family in text_string_to_metric_families(answer.get_data(as_text=True))
    }
    assert {
        "devtone_open_streams",
        "devtone_messages_posted",
        "devtone_entries_delivered",
        "devtone_tier_changes",
        "devtone_commit_to_write_seconds",
        "devtone_broker_reconnects",
        "devtone_catch_up_reads",
    } <= names


@pytest.mark.parametrize(
    "body",
    [
        {"from": "sse", "to": "carrier-pigeon", "reason": "timeout"},
        {"from": "sse", "to": "sse", "reason": "timeout"},
        {"from": "sse", "to": "poll", "reason": "x" * 50},
        {"from": 1, "to": "poll", "reason": "timeout"},
        {"to": "poll", "reason": "timeout"},
        {"from": "sse", "to": "poll", "reason": "timeout", "kind": "nope"},
    ],
)
def test_a_tier_report_outside_the_vocabulary_is_refused_with_422(client, body):
    answer = client.post("/api/realtime/report", json=body)
    assert answer.status_code == 422
    assert answer.json["error"]["field"] in {"from", "to", "reason", "kind"}


def test_tier_reports_are_rate_limited_per_address(app, client):
    app.config["TIER_REPORT_RATE_LIMIT"] = "3 per minute"
    body = {"from": "longpoll", "to": "sse", "reason": "upgrade"}
    codes = [client.post("/api/realtime/report", json=body).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]
    refused = client.post("/api/realtime/report", json=body)
    assert refused.json["error"]["code"] == "too_many_requests"
    assert "Retry-After" in refused.headers

"""The doctor's endpoints: the stream and the wait it measures against (public, bounded,
rate-limited), its findings (administrators only) and its page."""

import time
from datetime import UTC, datetime

import pytest

from devtone.realtime import stream_slots_of
from tests.conftest import app_on

BROWSER_SAW = {
    "heartbeat_ms": 15000,
    "stream": {
        "status": 200,
        "content_type": "text/event-stream",
        "content_encoding": "gzip",
        "headers_ms": 15020,
        "hello_ms": 15021,
        "ping_ms": 15022,
        "ended_ms": 15023,
    },
    "wait": {"asked_s": 25, "status": 504, "answered_ms": 1003},
    "clock": {"server_time": "2026-12-06T12:00:00Z", "sent_ms": 0, "received_ms": 0},
    "http_version": "http/1.1",
}


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """The usual test app, its doctor limited to 3 probes a minute per address."""
    with app_on(database_url, redis_url, redis_channel, DOCTOR_RATE_LIMIT="3 per minute") as app:
        yield app


def frames(answer):
    return [line for line in answer.get_data(as_text=True).splitlines() if line]


def test_the_test_stream_says_hello_at_once_pings_after_a_heartbeat_and_ends(app, client):
    answer = client.get("/api/doctor/stream")
    assert answer.status_code == 200
    assert answer.mimetype == "text/event-stream"
    assert answer.headers["X-Accel-Buffering"] == "no"
    lines = frames(answer)
    assert [line for line in lines if line.startswith("event:")] == ["event: hello", "event: ping"]
    assert '"heartbeat_ms":200' in lines[2]
    assert stream_slots_of(app).open == 0  # given back at the end


def test_the_wait_answers_after_its_seconds_with_the_servers_time(client):
    started = time.monotonic()
    answer = client.get("/api/doctor/wait?seconds=1")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 1
    body = answer.get_json()
    assert body["waited_ms"] >= 1000
    server_time = datetime.fromisoformat(body["time"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - server_time).total_seconds()) < 5


@pytest.mark.parametrize("seconds", ["31", "-1", "1.5", "x"])
def test_a_wait_past_the_long_poll_maximum_or_not_whole_is_refused(client, seconds):
    answer = client.get(f"/api/doctor/wait?seconds={seconds}")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "seconds"


def test_the_stream_and_the_wait_count_together_against_the_doctors_rate_limit(client):
    assert client.get("/api/doctor/wait").status_code == 200
    assert client.get("/api/doctor/stream").status_code == 200
    assert client.get("/api/doctor/wait").status_code == 200
    refused = client.get("/api/doctor/stream")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_an_admin_gets_the_browsers_observations_judged_with_their_fixes(admin, sign_in):
    answer = sign_in(admin).post("/api/doctor/findings", json=BROWSER_SAW)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["passed"] is False
    status = {finding["check"]: finding["status"] for finding in body["findings"]}
    assert status == {
        "stream_opens": "pass",
        "stream_buffered": "fail",
        "stream_compressed": "fail",
        "idle_stream_cut": "pass",
        "long_poll_cut": "fail",
        "clock_skew": "fail",
        "http_version": "info",
    }
    buffered = body["findings"][1]
    assert buffered["saw"].startswith("The headers came after 15.0 s and hello after 15.0 s")
    assert {fix["for"] for fix in buffered["fixes"]} == {"nginx", "apache", "cdn", "devtone"}
    assert "proxy_buffering off;" in buffered["fixes"][0]["config"]


def test_the_findings_come_in_the_admins_language(admin, sign_in):
    answer = sign_in(admin).post(
        "/api/doctor/findings", json=BROWSER_SAW, headers={"Accept-Language": "pt-BR"}
    )
    buffered = answer.get_json()["findings"][1]
    assert buffered["title"] == "Os eventos chegam na hora (sem buffer)"
    assert "15,0 s" in buffered["saw"]
    assert buffered["fixes"][0]["config"].startswith("location /api/ {")  # code stays code


def test_only_an_admin_may_have_findings_judged(client, agent, sign_in):
    assert client.post("/api/doctor/findings", json=BROWSER_SAW).status_code == 401
    refused = sign_in(agent).post("/api/doctor/findings", json=BROWSER_SAW)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "admins_only"


def test_observations_of_the_wrong_shape_are_refused_naming_the_field(admin, sign_in):
    answer = sign_in(admin).post("/api/doctor/findings", json={**BROWSER_SAW, "wait": 3})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "wait"


def test_the_doctor_page_is_for_admins(client, agent, admin, sign_in):
    assert client.get("/dashboard/doctor").status_code == 302  # to the sign-in page
    assert sign_in(agent).get("/dashboard/doctor").status_code == 403
    page = sign_in(admin).get("/dashboard/doctor")
    assert page.status_code == 200
    assert 'id="doctor"' in page.get_data(as_text=True)

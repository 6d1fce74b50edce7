"""The doctor's rules, judged on observations written by hand: no server, no clock."""

from datetime import UTC, datetime

import pytest

from devtone import errors
from devtone.doctor import checks
from devtone.doctor.observations import (
    ClockSeen,
    Observations,
    StreamSeen,
    WaitSeen,
    read_observations,
)

NOON = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
NOON_MS = NOON.timestamp() * 1000
HEALTHY_STREAM = StreamSeen(
    status=200,
    content_type="text/event-stream",
    headers_ms=12,
    hello_ms=15,
    ping_ms=15_020,
    ended_ms=15_021,
)


HEALTHY_WAIT = WaitSeen(asked_s=25, status=200, answered_ms=25_010)
HEALTHY_CLOCK = ClockSeen(server_time=NOON, sent_ms=NOON_MS - 40, received_ms=NOON_MS + 40)


def seen(stream=HEALTHY_STREAM, wait=HEALTHY_WAIT, clock=HEALTHY_CLOCK, http_version="HTTP/2"):
    """What a run saw: a healthy path, but for what the test changes."""
    return Observations(
        heartbeat_ms=15_000, stream=stream, wait=wait, clock=clock, http_version=http_version
    )


def finding(observations, check):
    [found] = [f for f in checks.judge(observations) if f.check == check]
    return found


def english(found):
    return found.render(lambda text: text, lambda number: f"{number:.1f}")


def test_a_healthy_path_passes_every_check():
    findings = checks.judge(seen())
    assert {f.status for f in findings} == {"pass"}
    assert checks.passed(findings)


def test_a_stream_whose_headers_and_hello_are_held_is_buffered_and_says_how_to_fix_it():
    held = StreamSeen(
        status=200, content_type="text/event-stream", headers_ms=15_010, hello_ms=15_011,
        ping_ms=15_011, ended_ms=15_012,
    )  # fmt: skip
    found = english(finding(seen(stream=held), "stream_buffered"))
    assert found["status"] == "fail"
    assert "headers came after 15.0 s and hello after 15.0 s" in found["saw"]
    assert {fix["for"] for fix in found["fixes"]} >= {"nginx", "apache", "cdn"}
    nginx = next(fix for fix in found["fixes"] if fix["for"] == "nginx")
    assert "proxy_buffering off;" in nginx["config"]


def test_a_hello_that_never_came_is_buffered_too():
    found = finding(seen(stream=StreamSeen(200, "text/event-stream", None, 5, None, None, 30_000)),
                    "stream_buffered")  # fmt: skip
    assert found.status == "fail"


def test_hello_and_the_ping_arriving_together_is_buffering_even_with_a_short_heartbeat():
    # A heartbeat of 1 s: the held stream ends, and is delivered, before 2 s have passed.
    held = StreamSeen(200, "text/event-stream", None, 1_010, 1_011, 1_011, 1_012)
    observations = Observations(1_000, held, HEALTHY_WAIT, HEALTHY_CLOCK, "HTTP/2")
    found = english(finding(observations, "stream_buffered"))
    assert found["status"] == "fail"
    assert found["saw"] == (
        "hello and the ping sent 1.0 s after it came together, after 1.0 s: "
        "something on the way held them back."
    )


@pytest.mark.parametrize(("hello_ms", "status"), [(1_999, "pass"), (2_001, "fail")])
def test_hello_is_late_past_two_seconds(hello_ms, status):
    stream = StreamSeen(200, "text/event-stream", None, 10, hello_ms, hello_ms + 15_000, 20_000)
    assert finding(seen(stream=stream), "stream_buffered").status == status


@pytest.mark.parametrize(
    ("encoding", "status"), [("gzip", "fail"), ("br", "fail"), ("identity", "pass"), (None, "pass")]
)
def test_a_compressed_stream_fails(encoding, status):
    stream = StreamSeen(200, "text/event-stream", encoding, 10, 12, 15_012, 15_013)
    found = english(finding(seen(stream=stream), "stream_compressed"))
    assert found["status"] == status
    if status == "fail":
        assert f"Content-Encoding: {encoding}" in found["saw"]
        assert any("gzip off;" in (fix["config"] or "") for fix in found["fixes"])


def test_a_stream_cut_before_its_first_ping_names_the_read_timeout():
    cut = StreamSeen(200, "text/event-stream", None, 10, 12, None, 1_004, "IncompleteRead")
    found = english(finding(seen(stream=cut), "idle_stream_cut"))
    assert found["status"] == "fail"
    assert found["saw"] == (
        "The stream was cut after 1.0 s, before the ping the server sends every 15.0 s."
    )
    assert any("proxy_read_timeout 1h;" in (fix["config"] or "") for fix in found["fixes"])


def test_a_long_poll_cut_with_504_before_its_wait_fails():
    found = english(finding(seen(wait=WaitSeen(25, 504, 1_003)), "long_poll_cut"))
    assert found["status"] == "fail"
    assert found["saw"] == "A request asked to wait 25.0 s was answered 504 after 1.0 s."


def test_a_long_poll_whose_connection_broke_says_what_broke_it():
    found = english(finding(seen(wait=WaitSeen(25, None, 60_000, "timed out")), "long_poll_cut"))
    assert found["saw"] == "A request asked to wait 25.0 s broke after 60.0 s: timed out."


@pytest.mark.parametrize(
    ("server_ahead_ms", "status", "saw"),
    [
        (1_900, "pass", "The server's clock and this one differ by 1.9 s."),
        (-1_900, "pass", "The server's clock and this one differ by 1.9 s."),
        (2_500, "fail", "The server's clock is 2.5 s ahead of this one."),
        (-3_000, "fail", "The server's clock is 3.0 s behind this one."),
    ],
)
def test_clocks_more_than_two_seconds_apart_fail(server_ahead_ms, status, saw):
    # The client read its clock 200 ms before and after: the server's reading is taken to
    # be from the middle of the round trip.
    here = NOON_MS - server_ahead_ms
    clock = ClockSeen(server_time=NOON, sent_ms=here - 200, received_ms=here + 200)
    found = english(finding(seen(clock=clock), "clock_skew"))
    assert (found["status"], found["saw"]) == (status, saw)


def test_http_1_1_is_information_with_the_http_2_fix_not_a_failure():
    findings = checks.judge(seen(http_version="HTTP/1.1"))
    found = english(finding(seen(http_version="HTTP/1.1"), "http_version"))
    assert found["status"] == "info"
    assert "at most 6 connections" in found["saw"]
    assert any(fix["config"] == "listen 443 ssl;\nhttp2 on;" for fix in found["fixes"])
    assert checks.passed(findings)


def test_a_stream_that_did_not_open_leaves_its_other_checks_unjudged_and_fails():
    refused = StreamSeen(status=502, content_type="text/html", headers_ms=3, ended_ms=4)
    findings = {f.check: f for f in checks.judge(seen(stream=refused))}
    assert findings["stream_opens"].status == "fail"
    assert english(findings["stream_opens"])["saw"] == (
        "It answered 502 with text/html instead of 200 text/event-stream."
    )
    for check in ("stream_buffered", "stream_compressed", "idle_stream_cut"):
        assert findings[check].status == "skipped"
    assert not checks.passed(list(findings.values()))


def test_observations_read_from_the_browsers_json():
    observations = read_observations(
        {
            "heartbeat_ms": 15000,
            "stream": {"status": 200, "content_type": "text/event-stream", "hello_ms": 20},
            "wait": {"asked_s": 25, "status": 200, "answered_ms": 25003.5},
            "clock": {"server_time": "2026-12-06T12:00:00.000Z", "sent_ms": NOON_MS,
                      "received_ms": NOON_MS + 80},
            "http_version": "HTTP/2",
        }
    )  # fmt: skip
    assert observations.clock.server_time == NOON
    assert observations.stream.hello_ms == 20
    assert observations.wait.answered_ms == 25003.5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"heartbeat_ms": "15000"}, "heartbeat_ms"),
        ({"stream": []}, "stream"),
        ({"stream": {"status": True}}, "stream.status"),
        ({"wait": {"asked_s": -1}}, "wait.asked_s"),
        ({"clock": {"server_time": "noon", "sent_ms": 1, "received_ms": 2}}, "clock.server_time"),
        ({"http_version": "x" * 201}, "http_version"),
    ],
)
def test_observations_that_break_the_shape_are_refused_naming_the_field(change, field):
    data = {"heartbeat_ms": 15000, "stream": {}, "wait": {"asked_s": 25}, **change}
    with pytest.raises(errors.Invalid) as refused:
        read_observations(data)
    assert refused.value.field == field


def test_a_probe_devtone_refused_for_its_rate_limit_is_not_judged_and_blames_no_proxy():
    refused = StreamSeen(status=429, content_type="application/json", headers_ms=3, ended_ms=4)
    findings = {
        f.check: english(f) for f in checks.judge(seen(stream=refused, wait=WaitSeen(25, 429, 5)))
    }
    for check in ("stream_opens", "long_poll_cut"):
        assert findings[check]["status"] == "skipped"
        assert "too many doctor runs from this address" in findings[check]["saw"]
        assert findings[check]["fixes"] == []

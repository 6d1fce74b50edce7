"""`flask --app devtone doctor URL` through a real nginx: each broken configuration is named
with its fix and exits non-zero; the documented one passes and exits 0."""

import re

import pytest

from tests.browser.pages import documented_api_location
from tests.doctor.broken_proxies import BUFFERING, COMPRESSING, SHORT_READ_TIMEOUT, TIMINGS


def doctor(app, url):
    """Run the command as an operator would; its exit status and what it printed."""
    result = app.test_cli_runner().invoke(args=["doctor", url])
    return result.exit_code, result.output


def verdicts(output):
    """{title: PASS/FAIL/INFO/SKIP} of the report."""
    marks = ("PASS  ", "FAIL  ", "INFO  ", "SKIP  ")
    return {line[6:]: line[:4] for line in output.splitlines() if line.startswith(marks)}


@pytest.mark.parametrize(
    ("proxy_config", "failed", "said"),
    [
        (
            BUFFERING,
            {"Events arrive at once (no buffering)"},
            ["devtone sends both at once, so something on the way held them back",
             "proxy_buffering off;", "flushpackets=on", "Response Buffering"],
        ),
        (
            COMPRESSING,
            {"The stream is not compressed"},
            ["The stream came with Content-Encoding: gzip.", "gzip off;", "no-gzip"],
        ),
        (
            SHORT_READ_TIMEOUT,
            {"An idle stream lives past a heartbeat", "Long-poll lives through its wait"},
            ["The stream was cut after 1.{tenths} s, before the ping the server sends every 3.0 s.",
             "A request asked to wait 3.0 s was answered 504 after 1.{tenths} s.",
             "proxy_read_timeout 1h;", "timeout=3600", "DEVTONE_SSE_HEARTBEAT="],
        ),
    ],
    ids=["proxy_buffering on", "gzip on for text/event-stream", "read timeout below heartbeat"],
)  # fmt: skip
def test_the_doctor_names_a_broken_proxy_and_its_fix_and_exits_non_zero(
    app, live_server, nginx, proxy_config, failed, said
):
    proxy = nginx(live_server(**TIMINGS)).configure(**proxy_config)
    status, output = doctor(app, proxy.url)
    assert status == 1, output
    seen = verdicts(output)
    assert {title for title, mark in seen.items() if mark == "FAIL"} == failed, output
    assert seen["The clocks agree"] == "PASS"
    flowing = " ".join(output.split())  # the report wraps its lines
    for words in said:
        # {tenths}: a measured time's tenths (1.0 s, or 1.1 on a busy machine).
        pattern = re.escape(words).replace(re.escape("{tenths}"), r"\d")
        assert re.search(pattern, flowing), output


def test_through_the_documented_nginx_every_check_passes_and_the_doctor_exits_0(
    app, live_server, nginx
):
    proxy = nginx(live_server(**TIMINGS)).configure(api_location=documented_api_location())
    status, output = doctor(app, proxy.url)
    assert status == 0, output
    seen = verdicts(output)
    assert set(seen.values()) == {"PASS", "INFO"}, output
    # Plain http:// is HTTP/1.1: said, with the way to HTTP/2, never failed.
    assert seen["HTTP version"] == "INFO"
    assert "at most 6 connections" in output
    assert output.rstrip().endswith("Every check passed.")


def test_a_url_where_devtone_does_not_answer_is_an_error_not_a_report(app, refused_url):
    status, output = doctor(app, refused_url.replace("redis://", "http://"))
    assert status == 1
    assert "devtone does not answer at" in output

"""The stream limit in headless Chromium: a page refused a stream (429) polls, keeps
working, does not hammer the server, and climbs back to SSE once the limit clears."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import (
    FIRST,
    api_post,
    expect_shown_once_in_order,
    start_chat,
    type_message,
)

pytestmark = pytest.mark.browser


def test_a_page_refused_a_stream_polls_without_hammering_and_climbs_back_to_sse(
    live_server, new_page
):
    # One stream per conversation; Retry-After is one poll interval (1 s here).
    server = live_server(**FAST_TIMINGS, DEVTONE_STREAMS_PER_CONVERSATION="1")
    first = new_page()
    visitor = start_chat(first, server.url, "Ada")  # holds the conversation's one stream

    # The same visitor in a second browser: it resumes the conversation and is refused.
    second = new_page()
    second.goto(f"{server.url}/chat")
    second.evaluate("v => localStorage.setItem('devtone.visitor', JSON.stringify(v))", visitor)
    stream_requests: list[str] = []
    second.on(
        "request",
        lambda request: (
            stream_requests.append(request.method) if "/events" in request.url else None
        ),
    )
    second.reload()
    indicator = second.locator("#connection")
    expect(indicator).to_have_attribute("data-tier", "poll", timeout=15_000)
    expect(indicator).to_have_attribute("data-state", "polling")
    assert any("refused: HTTP 429" in line for line in second.console), second.console

    # It keeps working both ways while it polls.
    agent = api_post(server.url, visitor, "written by the agent")["body"]
    type_message(second, "typed while polling")
    expect_shown_once_in_order(second, [FIRST, agent, "typed while polling"])

    # …without hammering: a try of its stream (a GET and a HEAD) at most every Retry-After.
    before = len(stream_requests)
    second.wait_for_timeout(5_000)
    tries = len(stream_requests) - before
    assert 2 <= tries <= 12, stream_requests
    expect(indicator).to_have_attribute("data-tier", "poll")

    # The other stream goes away: the page climbs back to SSE on its own.
    first.close()
    expect(indicator).to_have_attribute("data-state", "live", timeout=15_000)
    expect(indicator).to_have_attribute("data-tier", "sse")
    assert "Polling stopped - SSE reconnected" in second.console
    after = api_post(server.url, visitor, "after the climb")["body"]
    expect_shown_once_in_order(second, [FIRST, agent, "typed while polling", after])
    assert second.errors == []

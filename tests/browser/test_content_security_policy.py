"""devtone's pages work under their own Content-Security-Policy: nothing is blocked."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import expect_dashboard_tier, sign_in
from tests.browser.pages import start_chat, type_message
from tests.conftest import ON_SQLITE

pytestmark = [
    pytest.mark.browser,
    # What a page may load does not depend on the storage: SQLite is enough.
    ON_SQLITE,
]

# Every frame of the page reports a violation to the console, where the test collects it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => console.error(
  `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI} in ${event.documentURI}`
));
"""


def _watched(new_page):
    page = new_page()
    page.context.add_init_script(REPORT_VIOLATIONS)
    return page


def _violations(*pages):
    return [
        line
        for page in pages
        for line in page.console
        if "CSP violation" in line or "Content Security Policy" in line
    ]


def test_the_chat_and_dashboard_pages_run_without_a_csp_violation(live_server, new_page, admin):
    server = live_server(**FAST_TIMINGS)
    desk = _watched(new_page)
    sign_in(desk, server.url, admin)
    expect_dashboard_tier(desk, "live", "sse")
    customer = _watched(new_page)
    start_chat(customer, server.url, "Ada")
    type_message(customer, "Hello")
    expect(desk.locator("#conversation-list li")).to_have_count(1, timeout=15_000)
    desk.goto(f"{server.url}/dashboard/agents")
    expect(desk.locator("#add-agent")).to_be_visible()
    assert _violations(desk, customer) == []
    assert desk.errors == [] and customer.errors == []


def test_the_widgets_frame_runs_without_a_csp_violation(live_server, host_site, new_page):
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = _watched(new_page)
    page.goto(host_site.page("shop.html", server.url))
    page.click("devtone-widget >> #launcher")
    frame = page.frame_locator("devtone-widget >> #frame")
    frame.locator("#start-name").fill("Ada")
    frame.locator("#start-form button[type=submit]").click()
    frame.locator("#message-body").fill("Hello")
    frame.locator("#message-body").press("Enter")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(frame.locator("#messages")).to_contain_text("Hello")
    assert _violations(page) == []
    assert page.errors == []

"""What the browser tests do on the dashboard, in the agent's own words."""

import re

from playwright.sync_api import expect


def sign_in(page, url, account):
    """Sign in at /dashboard/login and wait for the dashboard's first snapshot."""
    page.goto(f"{url}/dashboard/login")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def expect_dashboard_tier(page, state, tier):
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-state", state, timeout=15_000)
    expect(connection).to_have_attribute("data-tier", tier, timeout=15_000)


def list_item(page, conversation_id):
    return page.locator(f"#conversation-list li[data-conversation-id='{conversation_id}']")


def filter_count(page, name):
    return page.locator(f"[data-filter='{name}'] [data-count]")


def stat(page, name):
    return page.locator(f"[data-stat='{name}']")


def reply(page, body):
    page.fill("#reply-body", body)
    page.press("#reply-body", "Enter")


# Requests the agent's page may not make, to force its feeds down a tier: SSE streams for
# long-poll; SSE streams and every waiting request for poll.
BLOCK_SSE = re.compile(r"/events(\?|$)")
BLOCK_WAITING = re.compile(r"[?&]wait=[1-9]")


def force_tier(page, tier):
    """Make this page's feeds fall back to `tier` (the customer's page is not affected)."""
    if tier in ("longpoll", "poll"):
        page.route(BLOCK_SSE, lambda route: route.abort())
    if tier == "poll":
        page.route(BLOCK_WAITING, lambda route: route.abort())


# Headless Chromium answers "denied" for a permission never asked; a person's browser says
# "default" (not asked yet) and prompts on request. This plays that browser: "default"
# until the page asks, then what the context grants.
NOTIFICATIONS_NOT_ASKED_YET = """
const Recorded = window.Notification;
const granted = Object.getOwnPropertyDescriptor(Recorded, "permission").get;
const request = Recorded.requestPermission;
let asked = false;
Object.defineProperty(Recorded, "permission", {
  get: () => (asked ? granted.call(Recorded) : "default"),
  configurable: true,
});
Recorded.requestPermission = (...args) => {
  asked = true;
  return request(...args);
};
"""

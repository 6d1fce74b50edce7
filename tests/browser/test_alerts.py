"""Agents hear every customer: a visitor's message in a conversation of theirs (or a
waiting one) alerts them — a sound, the tab title's count, a favicon badge and a desktop
notification that opens the conversation — and rings again until someone has seen it;
with several tabs open, one tab alerts.

Sounds are counted by wrapping the oscillator's start() and notifications by wrapping the
Notification constructor, in an init script; notifications are granted through the
context's permissions. The repeat interval is shortened through
DEVTONE_ALERT_REPEAT_SECONDS, so the tests wait for rings, never for a clock.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import (
    NOTIFICATIONS_NOT_ASKED_YET,
    expect_dashboard_tier,
    sign_in,
)
from tests.browser.pages import first_message

pytestmark = pytest.mark.browser

REPEAT_SECONDS = 0.4

# Counts what the page plays and shows; runs before any script of the page.
INSTRUMENT = """
window.__sounds = 0;
window.__notifications = [];
window.__permissionRequests = 0;
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__sounds += 1;
  return start.apply(this, args);
};
const Real = window.Notification;
class Recorded extends Real {
  constructor(title, options) {
    super(title, options);
    window.__notifications.push({ title, body: options?.body, notification: this });
  }
  static get permission() { return Real.permission; }
  static requestPermission(...args) {
    window.__permissionRequests += 1;
    return Real.requestPermission(...args);
  }
}
window.Notification = Recorded;
"""


def sounds(page):
    return page.evaluate("window.__sounds")


def notification_titles(page):
    return page.evaluate("window.__notifications.map((shown) => shown.title)")


def alerting(page):
    return page.locator("#dashboard")


def favicon(page):
    return page.locator("link[rel='icon']")


def desk(browser, url, agent, permissions=("notifications",), *scripts):
    """The agent's dashboard in a browser of its own, instrumented, live."""
    context = browser.new_context(permissions=list(permissions))
    for script in (INSTRUMENT, *scripts):
        context.add_init_script(script)
    page = context.new_page()
    sign_in(page, url, agent)
    expect_dashboard_tier(page, "live", "sse")
    return page


@pytest.fixture
def assigned(app, start_visitor, agent):
    """Ada's conversation, with a first message, assigned to the agent (Mine)."""
    ada = start_visitor("Ada")
    with app.app_context():
        conversations.post_message(ada.id, Visitor(ada.token), "Hello")
        conversations.assign_conversation(ada.id, agent.identity)
    return ada


def test_a_visitor_message_alerts_repeats_and_a_click_on_the_notification_ends_it_by_opening(
    browser, live_server, agent, assigned
):
    server = live_server(**FAST_TIMINGS, DEVTONE_ALERT_REPEAT_SECONDS=str(REPEAT_SECONDS))
    page = desk(browser, server.url, agent)
    expect(favicon(page)).to_have_attribute("href", re.compile(r"^data:image/png"))  # 1 unread
    assert sounds(page) == 0, "what the agent finds on arrival is no news"
    assert notification_titles(page) == []

    first_message(server.url, assigned, "Is anyone there?")

    expect(alerting(page)).to_have_attribute("data-alerting", str(assigned.id))
    page.wait_for_function("() => window.__sounds >= 1")
    assert notification_titles(page)[0] == "New message from Ada"
    assert page.evaluate("window.__notifications[0].body") == "Is anyone there?"
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    expect(favicon(page)).to_have_attribute("data-badge", "2")
    expect(favicon(page)).to_have_attribute("href", re.compile(r"^data:image/png"))
    page.wait_for_function("() => window.__sounds >= 3 && window.__notifications.length >= 3")

    page.evaluate("window.__notifications.at(-1).notification.dispatchEvent(new Event('click'))")

    expect(page.locator("#transcript")).to_be_visible()
    expect(page.locator("#transcript-visitor")).to_have_text("Ada")
    expect(page.locator("#transcript-messages")).to_contain_text("Is anyone there?")
    expect(alerting(page)).to_have_attribute("data-alerting", "")
    expect(page).not_to_have_title(re.compile(r"^\("))
    expect(favicon(page)).to_have_attribute("href", "/favicon.ico")
    rang = sounds(page)
    time.sleep(REPEAT_SECONDS * 4)  # several intervals: no ring comes any more
    assert sounds(page) == rang
    assert len(notification_titles(page)) == rang
    assert page.evaluate("window.__violations") == []  # the drawn icon is allowed


def test_an_unseen_alert_rings_six_times_then_stops(browser, live_server, agent, assigned):
    server = live_server(**FAST_TIMINGS, DEVTONE_ALERT_REPEAT_SECONDS=str(REPEAT_SECONDS))
    page = desk(browser, server.url, agent)

    first_message(server.url, assigned, "Hello again")

    expect(alerting(page)).to_have_attribute("data-alerting", str(assigned.id))
    page.wait_for_function("() => window.__sounds >= 6", timeout=15_000)
    expect(alerting(page)).to_have_attribute("data-alerting", "")
    time.sleep(REPEAT_SECONDS * 4)
    assert sounds(page) == 6  # the first ring and five repeats
    assert notification_titles(page) == ["New message from Ada"] * 6
    expect(page).to_have_title(re.compile(r"^\(2\) "))  # still unread: the badges stay


def test_with_two_tabs_exactly_one_alerts_and_the_other_takes_over_when_it_closes(
    browser, live_server, agent, assigned
):
    server = live_server(**FAST_TIMINGS)  # 30 s between rings: one ring per message here
    leader = desk(browser, server.url, agent)
    follower = leader.context.new_page()
    follower.goto(f"{server.url}/dashboard")
    expect_dashboard_tier(follower, "live", "sse")

    first_message(server.url, assigned, "Two tabs, one sound")

    for tab in (leader, follower):  # both know the alert runs; the badges are each tab's
        expect(alerting(tab)).to_have_attribute("data-alerting", str(assigned.id))
        expect(tab).to_have_title(re.compile(r"^\(2\) "))
    leader.wait_for_function("() => window.__sounds + window.__notifications.length >= 2")
    time.sleep(1)  # a second tab's ring would have come with the first
    assert (sounds(leader), len(notification_titles(leader))) == (1, 1)
    assert (sounds(follower), len(notification_titles(follower))) == (0, 0)

    leader.close()
    first_message(server.url, assigned, "Still there?")

    follower.wait_for_function("() => window.__sounds >= 1 && window.__notifications.length >= 1")
    assert notification_titles(follower) == ["New message from Ada"]
    follower.context.close()


def test_quiet_mode_keeps_the_badges_only_and_follows_the_agent_to_another_browser(
    browser, live_server, agent, assigned
):
    server = live_server(**FAST_TIMINGS, DEVTONE_ALERT_REPEAT_SECONDS=str(REPEAT_SECONDS))
    page = desk(browser, server.url, agent)
    page.click("#alert-settings summary")
    with page.expect_response(re.compile(r"/api/dashboard/alerts$")) as saved:
        page.check("#alert-settings input[name=quiet]")
    assert saved.value.json() == {
        "alerts": {"sound": True, "desktop": True, "badge": True, "quiet": True}
    }

    first_message(server.url, assigned, "Psst")

    expect(alerting(page)).to_have_attribute("data-alerting", str(assigned.id))
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    expect(favicon(page)).to_have_attribute("data-badge", "2")
    time.sleep(REPEAT_SECONDS * 3)
    assert sounds(page) == 0
    assert notification_titles(page) == []

    elsewhere = desk(browser, server.url, agent)  # another browser: the server kept it
    elsewhere.click("#alert-settings summary")
    expect(elsewhere.locator("#alert-settings input[name=quiet]")).to_be_checked()
    expect(elsewhere.locator("#alert-settings input[name=sound]")).to_be_checked()


def test_desktop_notifications_are_asked_for_with_the_button_never_on_load(
    browser, live_server, agent
):
    server = live_server(**FAST_TIMINGS)
    page = desk(browser, server.url, agent, (), NOTIFICATIONS_NOT_ASKED_YET)
    page.click("#alert-settings summary")
    button = page.get_by_role("button", name="Allow desktop notifications")
    expect(button).to_be_visible()
    assert page.evaluate("window.__permissionRequests") == 0

    page.context.grant_permissions(["notifications"])
    button.click()

    expect(button).to_be_hidden()
    expect(page.locator("#notifications-state")).to_have_text(
        "Desktop notifications are on in this browser."
    )
    assert page.evaluate("window.__permissionRequests") == 1

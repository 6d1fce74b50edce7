"""A forgotten password, in three browsers: an admin makes a one-time link, the agent opens
it in another browser and chooses a new password, and the browser they had left signed in
is signed out."""

import re
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard_pages import sign_in
from tests.conftest import ON_SQLITE

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks

NEW_PASSWORD = "a brand new secret ✓"


def test_an_admin_makes_a_reset_link_and_the_agent_sets_a_new_password_with_it(
    live_server, new_page, agent, admin
):
    server = live_server()
    left_signed_in = new_page()  # Maria's browser at work, still signed in
    sign_in(left_signed_in, server.url, agent)

    desk = new_page()
    sign_in(desk, server.url, admin)
    desk.goto(f"{server.url}/dashboard/agents")
    desk.locator(f"tr[data-agent-id='{agent.id}']").get_by_role(
        "button", name="Make a reset link"
    ).click()
    expect(desk.locator("h1")).to_have_text("Reset link for Maria")
    expect(desk.locator("#reset-link-expiry")).to_contain_text("UTC")
    link = desk.locator("#reset-link-address").input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/dashboard/reset/[\w-]{{43}}", link)

    phone = new_page()  # Maria, on her phone
    phone.goto(link)
    expect(phone).to_have_url(f"{server.url}/dashboard/new-password")
    expect(phone.locator("form")).to_contain_text(agent.email)
    phone.fill("#password", NEW_PASSWORD)
    phone.fill("#confirm", NEW_PASSWORD)
    phone.get_by_role("button", name="Set password and sign in").click()
    expect(phone).to_have_url(re.compile(r"/dashboard$"))
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    left_signed_in.goto(f"{server.url}/dashboard")
    expect(left_signed_in).to_have_url(re.compile(r"/dashboard/login"))
    sign_in(left_signed_in, server.url, replace(agent, password=NEW_PASSWORD))

    phone.goto(link)  # the link worked once
    expect(phone.locator("#reset-problem")).to_have_attribute("data-problem", "reset_link_used")
    assert desk.errors == [] and phone.errors == [] and left_signed_in.errors == []

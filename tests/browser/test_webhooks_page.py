"""The administrators' webhooks page: register an endpoint (its secret shown once), see
its deliveries arrive at a real receiver and redeliver one, see why one is disabled; in
both languages and both themes."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from devtone.domain import conversations
from devtone.domain.models import WebhookEndpoint, utcnow
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from tests.browser.dashboard_pages import sign_in
from tests.browser.test_dark_mode import BODY_COLOURS, assert_theme
from tests.conftest import ON_SQLITE
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.browser, ON_SQLITE]  # forms and a list: the same on both stacks

SETTINGS = {
    "DEVTONE_WEBHOOK_ALLOW_PRIVATE": "1",
    "DEVTONE_WEBHOOK_CHECK_EVERY": "0.1",
    "DEVTONE_WEBHOOK_RETRY_AFTER": "600",  # no retry by itself: the button redelivers
}


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def test_an_admin_registers_an_endpoint_sees_its_deliveries_and_redelivers_one(
    app, live_server, new_page, admin, start_visitor, receiver
):
    server = live_server(**SETTINGS)
    page = new_page()
    sign_in(page, server.url, admin)
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.locator(".webhooks__empty")).to_be_visible()

    page.fill("#webhook-url", receiver.url)
    page.get_by_label("message.created").check()
    page.get_by_role("button", name="Register", exact=True).click()
    secret = page.locator("#webhook-secret-value")
    expect(secret).to_have_text(re.compile(r"^whsec_[0-9a-f]{48}$"))
    endpoint = page.locator(".webhook")
    expect(endpoint).to_have_count(1)
    expect(endpoint).to_contain_text(receiver.url)
    expect(endpoint).to_contain_text("Enabled")
    page.goto(f"{server.url}/dashboard/webhooks")
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once

    receiver.statuses = [500]
    visitor = start_visitor("Ada")
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Olá <b>!</b>", "c1")
    receiver.wait_for(lambda got: len(got) >= 1)

    page.get_by_role("link", name="Recent deliveries").click()
    row = page.locator(".webhook-delivery")
    expect(row).to_have_attribute("data-status", "pending", timeout=10_000)
    expect(row).to_contain_text("message.created")
    expect(row).to_contain_text("HTTP 500")
    event_id = receiver.received[0].headers["devtone-event-id"]
    expect(row).to_contain_text(event_id)

    row.get_by_role("button", name="Redeliver").click()
    expect(page.locator(".notice")).to_have_text("Delivery queued again.")
    receiver.wait_for(lambda got: len(got) >= 2)
    assert receiver.received[1].headers["devtone-event-id"] == event_id
    for _ in range(50):
        page.reload()
        if page.locator(".webhook-delivery").get_attribute("data-status") == "delivered":
            break
        page.wait_for_timeout(200)
    expect(row).to_have_attribute("data-status", "delivered")
    expect(row).to_contain_text("200")


def test_a_disabled_endpoint_shows_why_in_portuguese_and_the_dark_theme(
    app, live_server, new_page, admin
):
    server = live_server(**SETTINGS)
    page = new_page(locale="pt-BR", color_scheme="dark")
    sign_in(page, server.url, admin)
    page.goto(f"{server.url}/dashboard/webhooks")
    page.fill("#webhook-url", "http://127.0.0.1:9/hooks")
    page.get_by_label("conversation.closed").check()
    page.get_by_label("Incluir as notas privadas dos atendentes").check()
    page.get_by_role("button", name="Cadastrar", exact=True).click()
    expect(page.locator("#webhook-secret")).to_contain_text("não será mostrado de novo")
    # What the sender stores after 24 h of failures (webhook_deliveries.not_delivered).
    with app.app_context():
        db.session.execute(
            update(WebhookEndpoint).values(
                disabled_at=utcnow(), disabled_reason="No delivery succeeded since …: HTTP 503"
            )
        )
        db.session.commit()
        db.session.remove()
    page.goto(f"{server.url}/dashboard/webhooks")
    endpoint = page.locator(".webhook")
    expect(endpoint).to_have_attribute("data-enabled", "false")
    expect(endpoint).to_contain_text("Desativado")
    expect(endpoint).to_contain_text("HTTP 503")
    expect(endpoint).to_contain_text("Notas privadas incluídas")
    assert_theme(page.evaluate(BODY_COLOURS), "dark", "/dashboard/webhooks")
    light = new_page(color_scheme="light")
    sign_in(light, server.url, admin)
    light.goto(f"{server.url}/dashboard/webhooks")
    assert_theme(light.evaluate(BODY_COLOURS), "light", "/dashboard/webhooks")


def test_an_agent_cannot_open_the_webhooks_page(live_server, new_page, agent):
    server = live_server()
    page = new_page()
    sign_in(page, server.url, agent)
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)
    answer = page.goto(f"{server.url}/dashboard/webhooks")
    assert answer.status == 403

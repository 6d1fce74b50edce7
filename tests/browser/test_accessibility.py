"""axe-core finds no accessibility violation on any page, in the light and the dark theme.

axe-core comes from the npm registry (package.json; `npm ci` puts it in node_modules/).
It is injected into each page with Playwright's CSP bypass: devtone's own pages allow no
inline script, which is the point of their policy, not something to loosen for a test.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.dashboard_pages import NOTIFICATIONS_NOT_ASKED_YET, sign_in
from tests.browser.host_site import AgentSession
from tests.browser.pages import first_message, start_chat, type_message
from tests.conftest import ON_SQLITE, require
from tests.doctor.broken_proxies import COMPRESSING

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def axe_page(browser):
    """`open(theme, locale)`: a page that can run axe-core (CSP bypassed for the injection)."""
    require(AXE.exists(), "axe-core is not installed: npm ci (.ci/run does it)")
    contexts = []

    def open_page(theme, locale="en-US", viewport=None):
        context = browser.new_context(
            color_scheme=theme,
            locale=locale,
            bypass_csp=True,
            **({"viewport": viewport} if viewport else {}),
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def violations(page, frame=None, within=None) -> list[str]:
    """Every axe-core violation on the page (or in `frame`, or `within` a selector's
    element), one line each."""
    target = frame or page
    target.add_script_tag(path=str(AXE))
    found = target.evaluate(
        "async (within) => (await axe.run(within || document,"
        " {resultTypes: ['violations']})).violations",
        within,
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + json.dumps([_where(node) for node in violation["nodes"]][:5], ensure_ascii=False)
        for violation in found
    ]


def assert_accessible(page, where: str, frame=None, within=None) -> None:
    """No violation at all; else every one, in full, under `where`."""
    found = violations(page, frame, within)
    assert not found, f"{where}:\n" + "\n".join(found)


def _where(node) -> str:
    """A failing node's selector and axe's first reason (for contrast: both colours and
    the ratio), so a failure says what to change."""
    reasons = [check["message"] for check in node["any"] + node["all"] + node["none"]]
    return f"{node['target']}: {reasons[0] if reasons else node['failureSummary']}"


@pytest.mark.parametrize("theme", THEMES)
def test_the_chat_page_before_and_during_a_conversation(live_server, axe_page, agent, theme):
    server = live_server()
    page = axe_page(theme)
    page.goto(f"{server.url}/chat")
    expect(page.locator("#start-form")).to_be_visible()
    assert_accessible(page, "/chat, the start form")

    page = axe_page(theme, locale="pt-BR")
    start_chat(page, server.url, "Ana", first="Olá, meu pedido atrasou")
    # Both sides' bubbles, the agent's initials and a group of two.
    desk = AgentSession(server.url, agent)
    desk.say(desk.conversation_of("Ana"), "Olá, Ana! Vou verificar agora.")
    type_message(page, "Obrigada!")
    expect(page.locator("#messages .message__avatar")).to_be_visible(timeout=15_000)
    sent = page.locator("#messages li.message:not(.message--pending)", has_text="Obrigada!")
    expect(sent).to_have_count(1)  # confirmed: not faded as a pending one is
    assert_accessible(page, "/chat, in a conversation (pt-BR)")


@pytest.mark.parametrize("theme", THEMES)
def test_the_chat_page_on_a_phone(live_server, axe_page, theme):
    server = live_server()
    page = axe_page(theme, viewport=PHONE)
    page.goto(f"{server.url}/chat")
    expect(page.locator("#start-form")).to_be_visible()
    assert_accessible(page, "/chat at 390×844, the start form")
    start_chat(page, server.url, "Ada")
    assert_accessible(page, "/chat at 390×844, in a conversation")


@pytest.mark.parametrize("theme", THEMES)
def test_the_agents_pages(app, live_server, axe_page, admin, start_visitor, theme):
    server = live_server()
    visitor = start_visitor("Ada")
    first_message(server.url, visitor, "Hello")
    with app.app_context():  # a private note in the transcript, on its own colours
        conversations.post_message(visitor.id, admin.identity, "VIP @Ada Admin", None, "note")

    page = axe_page(theme)
    page.add_init_script(NOTIFICATIONS_NOT_ASKED_YET)  # the alerts' button shows, as it would
    page.goto(f"{server.url}/dashboard/login")
    assert_accessible(page, "login")
    sign_in(page, server.url, admin)
    page.locator(f"#conversation-list li[data-conversation-id='{visitor.id}']").click()
    expect(page.locator("#transcript")).to_be_visible()
    expect(page.locator("#transcript-messages .message--note")).to_be_visible()
    assert_accessible(page, "dashboard")
    page.check("#reply-as-note")
    assert_accessible(page, "dashboard, writing a private note")
    page.click("#alert-settings summary")
    expect(page.locator("#allow-notifications")).to_be_visible()
    assert_accessible(page, "dashboard, alert settings open")
    for path in (
        "/dashboard/account",
        "/dashboard/agents",
        "/dashboard/canned-replies",
        "/dashboard/monitor",
        "/dashboard/office-hours",
        "/dashboard/visitor-data",
    ):
        page.goto(f"{server.url}{path}")
        assert_accessible(page, path)


@pytest.mark.parametrize("theme", THEMES)
def test_the_rating_form_the_ratings_and_the_canned_replies(
    app, live_server, axe_page, admin, theme
):
    from devtone.domain import canned_replies

    with app.app_context():
        canned_replies.create_reply(
            admin.identity, {"shortcut": "thanks", "text": "Thank you!", "shared": True}
        )
    server = live_server()
    page = axe_page(theme, locale="pt-BR")
    visitor = start_chat(page, server.url, "Ana", first="Olá, meu pedido atrasou")
    desk = AgentSession(server.url, admin)
    desk.close(visitor["conversationId"])
    expect(page.locator("#rating-form")).to_be_visible(timeout=15_000)
    page.locator("label[for='rating-4']").click()
    assert_accessible(page, "/chat, the rating form (pt-BR)")
    page.locator("#rating-form button[type=submit]").click()
    expect(page.locator("#rating-thanks")).to_be_visible(timeout=15_000)
    assert_accessible(page, "/chat, rated (pt-BR)")

    agents = axe_page(theme)
    sign_in(agents, server.url, admin)
    agents.click("[data-filter='closed']")
    agents.locator(
        f"#conversation-list li[data-conversation-id='{visitor['conversationId']}']"
    ).click()
    expect(agents.locator("#transcript-rating")).to_be_visible(timeout=15_000)
    assert_accessible(agents, "dashboard, a rated conversation")
    agents.click("[data-filter='open']")
    # The "/" list, over an open conversation's reply box.
    start = axe_page(theme)
    other = start_chat(start, server.url, "Bia")
    agents.locator(
        f"#conversation-list li[data-conversation-id='{other['conversationId']}']"
    ).click()
    agents.locator("#reply-body").press("/")
    expect(agents.locator("#canned-picker [role=option]")).to_have_count(1, timeout=15_000)
    assert_accessible(agents, "dashboard, the canned replies list open")


@pytest.mark.parametrize("theme", THEMES)
def test_the_doctor_page_before_and_after_a_run(live_server, nginx, axe_page, admin, theme):
    # Through a compressing nginx, so a failure, passes and information are all on show.
    server = live_server(DEVTONE_SSE_HEARTBEAT="0.5", DEVTONE_LONGPOLL_WAIT="1")
    proxy = nginx(server).configure(**COMPRESSING)
    page = axe_page(theme)
    sign_in(page, proxy.url, admin)
    page.goto(f"{proxy.url}/dashboard/doctor")
    assert_accessible(page, "/dashboard/doctor")
    page.click("#doctor-run")
    expect(page.locator("[data-check='stream_compressed']")).to_have_attribute(
        "data-status", "fail", timeout=30_000
    )
    assert_accessible(page, "/dashboard/doctor with its findings")


@pytest.mark.parametrize("theme", THEMES)
def test_the_password_reset_pages(live_server, axe_page, admin, agent, mail_server, theme):
    """Every page of a forgotten password: asking for a link (without e-mail and with it),
    the admin's link, the new-password form (with its errors) and a link that failed."""
    without_mail = live_server()
    page = axe_page(theme)
    page.goto(f"{without_mail.url}/dashboard/forgot-password")
    expect(page.locator("#ask-an-admin")).to_be_visible()
    assert_accessible(page, "forgot password, without e-mail")

    server = live_server(
        DEVTONE_SMTP_URL=mail_server.url, DEVTONE_MAIL_FROM="Support <support@example.com>"
    )
    page.goto(f"{server.url}/dashboard/forgot-password")
    assert_accessible(page, "forgot password, the form")
    page.fill("#email", agent.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#reset-requested")).to_be_visible()
    assert_accessible(page, "forgot password, sent")

    desk = axe_page(theme)
    sign_in(desk, server.url, admin)
    desk.goto(f"{server.url}/dashboard/agents")
    desk.locator(f"tr[data-agent-id='{agent.id}']").get_by_role(
        "button", name="Make a reset link"
    ).click()
    expect(desk.locator("#reset-link")).to_be_visible()
    assert_accessible(desk, "the admin's reset link")

    phone = axe_page(theme, viewport=PHONE)
    phone.goto(desk.locator("#reset-link-address").input_value())
    expect(phone).to_have_url(f"{server.url}/dashboard/new-password")
    assert_accessible(phone, "new password")
    phone.fill("#password", "short")
    phone.fill("#confirm", "different")
    phone.locator("form button[type=submit]").click()
    expect(phone.locator(".field__error").first).to_be_visible()
    assert_accessible(phone, "new password, refused")

    phone.goto(f"{server.url}/dashboard/reset/not-a-link")
    expect(phone.locator("#reset-problem")).to_be_visible()
    assert_accessible(phone, "a reset link that does not work")


@pytest.mark.parametrize("theme", THEMES)
def test_the_widget_closed_and_open(live_server, host_site, axe_page, theme):
    server = live_server(DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = axe_page(theme)
    page.goto(host_site.page("shop.html", server.url))
    launcher = page.locator("devtone-widget >> #launcher")
    expect(launcher).to_be_visible(timeout=15_000)
    # The host page's own (hostile) styles are the site's business: only the widget is ours.
    assert_accessible(page, "closed", within="devtone-widget")
    launcher.click()
    frame = page.frame_locator("devtone-widget >> #frame")
    expect(frame.locator("#start-form")).to_be_visible(timeout=15_000)
    inner = next(f for f in page.frames if f.url.startswith(f"{server.url}/embed"))
    assert_accessible(page, "open", frame=inner)

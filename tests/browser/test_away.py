"""The widget tells the truth about when someone will reply: out of hours with nobody
online it says the team is away and when it opens next (in the visitor's own time zone
and language) and asks for an e-mail address; in hours with an agent online it greets
with the typical reply time. In both languages and both themes."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from devtone.domain import agent_presence, conversations, office_hours
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import sign_in
from tests.conftest import ON_SQLITE

# What the pages say; the rules behind it are pinned on both stacks in tests/domain.
pytestmark = [pytest.mark.browser, ON_SQLITE]

LAUNCHER = "devtone-widget >> #launcher"
WEEKDAY_NAMES = {
    "en-US": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "pt-BR": [
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ],
}


def open_in_three_days_only(app, admin) -> dt.datetime:
    """Office hours open one hour (12:00 UTC), three days from now only: out of hours now,
    whatever the time the test runs. Returns that opening."""
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date()
    weekday = office_hours.WEEKDAYS[day.weekday()]
    with app.app_context():
        office_hours.save_schedule(
            {
                "enabled": True,
                "time_zone": "UTC",
                "days": {weekday: {"open": "12:00", "close": "13:00"}},
            },
            admin.identity,
        )
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def open_chat(surface, page, host_site, server):
    """The chat where the visitor meets it: the widget on a shop's page, or /chat."""
    if surface == "chat page":
        page.goto(f"{server.url}/chat")
        return page
    page.goto(host_site.page("shop.html", server.url))
    page.locator(LAUNCHER).click(timeout=15_000)
    return page.frame_locator("devtone-widget >> #frame")


@pytest.mark.parametrize(
    ("surface", "locale", "scheme", "clock", "leave_email"),
    [
        ("widget", "en-US", "light", "9:00", "Leave your e-mail address"),
        ("widget", "pt-BR", "dark", "09:00", "Deixe seu e-mail"),
        ("chat page", "pt-BR", "light", "09:00", "Deixe seu e-mail"),
    ],
)
def test_out_of_hours_with_nobody_online_the_chat_says_when_it_opens_and_needs_an_e_mail(
    app, admin, live_server, host_site, new_page, surface, locale, scheme, clock, leave_email
):
    opening = open_in_three_days_only(app, admin)
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    # São Paulo is UTC-3: the opening at 12:00 UTC is 09:00 there, the same day.
    page = new_page(locale=locale, color_scheme=scheme, timezone_id="America/Sao_Paulo")
    chat = open_chat(surface, page, host_site, server)

    away = chat.locator("#start-away")
    expect(away).to_be_visible(timeout=15_000)
    expect(away).to_contain_text(WEEKDAY_NAMES[locale][opening.weekday()])
    expect(away).to_contain_text(clock)
    expect(away).to_contain_text(leave_email)
    email = chat.locator("#start-email")
    expect(email).to_have_attribute("required", "")
    expect(chat.locator("[data-email-optional]")).to_be_hidden()

    # A name alone does not get past the form.
    chat.locator("#start-name").fill("Ada")
    chat.locator("#start-form [type=submit]").click()
    expect(chat.locator("#start-form")).to_be_visible()
    expect(chat.locator("#conversation")).to_be_hidden()
    assert email.evaluate("input => input.validity.valueMissing")

    email.fill("ada@example.com")
    chat.locator("#start-form [type=submit]").click()
    reply_line = chat.locator("#greeting .greeting__reply")
    expect(reply_line).to_have_attribute("data-away", "true", timeout=15_000)
    expect(reply_line).to_contain_text(WEEKDAY_NAMES[locale][opening.weekday()])
    chat.locator("#message-body").fill("Are you there?")
    chat.locator("#message-body").press("Enter")
    expect(chat.locator("#messages li.message")).to_have_count(1, timeout=15_000)
    expect(chat.locator("#messages li.message[data-seq='1']")).to_have_count(1, timeout=15_000)
    with app.app_context():
        listed = conversations_of("Ada")
    assert [c["visitor"]["email"] for c in listed] == ["ada@example.com"]
    assert page.errors == []


def conversations_of(name):
    from devtone.domain.snapshots import take_snapshot

    return [c for c in take_snapshot().conversations if c["visitor"]["name"] == name]


@pytest.mark.parametrize(
    ("surface", "locale", "scheme", "greeting"),
    [
        ("widget", "en-US", "dark", "Typically replies in a few minutes"),
        ("widget", "pt-BR", "light", "Costuma responder em poucos minutos"),
        ("chat page", "en-US", "light", "Typically replies in a few minutes"),
    ],
)
def test_in_hours_with_an_agent_online_the_chat_greets_with_the_typical_reply_time(
    app,
    admin,
    agent,
    live_server,
    host_site,
    new_page,
    start_visitor,
    clock,
    surface,
    locale,
    scheme,
    greeting,
):
    every_day = {day: {"open": "00:00", "close": "24:00"} for day in office_hours.WEEKDAYS}
    with app.app_context():
        office_hours.save_schedule(
            {"enabled": True, "time_zone": "America/Sao_Paulo", "days": every_day},
            admin.identity,
        )
        # Yesterday's first reply came after 3 minutes: the median the greeting words.
        clock.now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        waiting = start_visitor("Bea", "bea@example.com")
        conversations.post_message(waiting.id, Visitor(waiting.token), "hello?")
        clock.now += dt.timedelta(minutes=3)
        conversations.post_message(waiting.id, agent.identity, "here")
        agent_presence.beat(agent.identity, active=True)  # Maria's dashboard is open
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = new_page(locale=locale, color_scheme=scheme)
    chat = open_chat(surface, page, host_site, server)

    expect(chat.locator("#start-name")).to_be_visible(timeout=15_000)
    expect(chat.locator("#start-away")).to_be_hidden()
    expect(chat.locator("[data-email-optional]")).to_be_visible()
    chat.locator("#start-name").fill("Ada")
    chat.locator("#start-form [type=submit]").click()  # no e-mail: optional now
    reply_line = chat.locator("#greeting .greeting__reply")
    expect(reply_line).to_have_text(greeting, timeout=15_000)
    expect(reply_line).to_have_attribute("data-away", "false")
    assert page.errors == []


def team_row(desk, account):
    return desk.locator(f"#team-list li[data-agent-id='{account.id}']")


def test_the_dashboard_shows_who_is_online_and_away_by_hand_reaches_the_visitor(
    app, admin, agent, make_agent, live_server, new_page
):
    every_day = {day: {"open": "00:00", "close": "24:00"} for day in office_hours.WEEKDAYS}
    with app.app_context():
        office_hours.save_schedule(
            {"enabled": True, "time_zone": "UTC", "days": every_day}, admin.identity
        )
    bruno = make_agent("Bruno")
    server = live_server(**FAST_TIMINGS)
    maria_desk = new_page()
    sign_in(maria_desk, server.url, agent)
    mine = team_row(maria_desk, agent)
    expect(mine).to_have_attribute("data-status", "online", timeout=15_000)
    expect(mine).to_contain_text("Maria (you)")
    expect(team_row(maria_desk, bruno)).to_have_attribute("data-status", "offline")

    # Bruno opens his dashboard: Maria is online there.
    bruno_desk = new_page(locale="pt-BR", color_scheme="dark")
    sign_in(bruno_desk, server.url, bruno)
    maria_there = team_row(bruno_desk, agent)
    expect(maria_there).to_have_attribute("data-status", "online", timeout=15_000)
    expect(maria_there.locator(".team__status")).to_have_text("disponível")  # pt-BR

    # Both step away by hand: a visitor who comes now is told nobody is there.
    for desk in (maria_desk, bruno_desk):
        desk.click("#away-toggle")
        expect(desk.locator("#away-toggle")).to_have_attribute("aria-pressed", "true")
    expect(mine).to_have_attribute("data-status", "away")
    visitor = new_page()
    visitor.goto(f"{server.url}/chat")
    expect(visitor.locator("#start-away")).to_have_text(
        "Nobody is available right now. Leave your e-mail address and we'll reply there.",
        timeout=15_000,
    )
    expect(visitor.locator("#start-email")).to_have_attribute("required", "")

    # Maria is back: the next visitor may leave out the e-mail address.
    maria_desk.click("#away-toggle")
    expect(maria_desk.locator("#away-toggle")).to_have_attribute("aria-pressed", "false")
    expect(mine).to_have_attribute("data-status", "online")
    later = new_page()
    later.goto(f"{server.url}/chat")
    expect(later.locator("[data-email-optional]")).to_be_visible(timeout=15_000)
    expect(later.locator("#start-away")).to_be_hidden()
    for page in (maria_desk, bruno_desk, visitor, later):
        assert page.errors == []


def test_a_site_may_hide_the_launcher_out_of_hours_and_show_it_in_hours(
    app, admin, live_server, host_site, new_page
):
    open_in_three_days_only(app, admin)
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    hiding = 'data-hide-out-of-hours="true"'
    page = new_page()
    with page.expect_console_message(lambda m: "launcher stays hidden" in m.text, timeout=15_000):
        page.goto(host_site.page("hiding.html", server.url, hiding))
    expect(page.locator("devtone-widget")).to_have_count(0)
    # Without the option, the same hours still show it (the chat then says it is away).
    plain = new_page()
    plain.goto(host_site.page("plain.html", server.url))
    expect(plain.locator(LAUNCHER)).to_be_visible(timeout=15_000)

    every_day = {day: {"open": "00:00", "close": "24:00"} for day in office_hours.WEEKDAYS}
    with app.app_context():
        office_hours.save_schedule(
            {"enabled": True, "time_zone": "UTC", "days": every_day}, admin.identity
        )
    # A new visitor (a fresh browser: no answer cached) on the hiding page, in hours.
    later = new_page()
    later.goto(host_site.page("hiding.html", server.url, hiding))
    expect(later.locator(LAUNCHER)).to_be_visible(timeout=15_000)
    assert page.errors == plain.errors == later.errors == []

"""The system's dark theme (prefers-color-scheme: dark) turns devtone's pages and the
widget's chat dark: light text on a dark page, where the light theme has the reverse."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard_pages import sign_in
from tests.conftest import ON_SQLITE

pytestmark = [
    pytest.mark.browser,
    # A theme is the stylesheet's business, not the storage's: SQLite is enough.
    ON_SQLITE,
]

#: [background, text] of the page's body, as the browser computed them.
BODY_COLOURS = "() => ['backgroundColor', 'color'].map(p => getComputedStyle(document.body)[p])"


def luminance(css_colour: str) -> float:
    """WCAG's relative luminance of an `rgb(r, g, b)` colour: 0 black … 1 white."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def assert_theme(colours: list[str], theme: str, where: str) -> None:
    """Dark: a dark, opaque page under light text; light: the reverse."""
    background, text = colours
    assert not background.startswith("rgba"), f"{where}: no page colour ({background})"
    dark_page = luminance(background) < 0.05 and luminance(text) > 0.6
    light_page = luminance(background) > 0.8 and luminance(text) < 0.05
    assert (dark_page, light_page) == (theme == "dark", theme == "light"), (where, colours)


def page_colours(new_page, url: str, theme: str, ready: str) -> list[str]:
    page = new_page(color_scheme=theme)
    page.goto(url)
    expect(page.locator(ready)).to_be_visible()
    return page.evaluate(BODY_COLOURS)


@pytest.mark.parametrize("path", ["/chat", "/embed"])
def test_the_chat_page_and_embed_follow_the_systems_theme(live_server, new_page, path):
    server = live_server()
    light = page_colours(new_page, f"{server.url}{path}", "light", "#start-form")
    dark = page_colours(new_page, f"{server.url}{path}", "dark", "#start-form")
    assert_theme(light, "light", path)
    assert_theme(dark, "dark", path)
    assert light != dark


def test_the_dashboard_follows_the_systems_theme(live_server, new_page, agent):
    server = live_server()
    seen = {}
    for theme in ("light", "dark"):
        page = new_page(color_scheme=theme)
        sign_in(page, server.url, agent)
        expect(page.locator("#conversation-list")).to_be_visible()
        seen[theme] = page.evaluate(BODY_COLOURS)
        assert_theme(seen[theme], theme, f"/dashboard ({theme})")
    assert seen["light"] != seen["dark"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_widgets_chat_follows_the_systems_theme(live_server, host_site, new_page, theme):
    server = live_server(DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = new_page(color_scheme=theme)
    page.goto(host_site.page("shop.html", server.url))
    page.click("devtone-widget >> #launcher")
    chat = page.frame_locator("devtone-widget >> #frame")
    expect(chat.locator("#start-form")).to_be_visible(timeout=15_000)
    frame = next(f for f in page.frames if f.url.startswith(f"{server.url}/embed"))
    assert_theme(frame.evaluate(BODY_COLOURS), theme, "the widget's chat")
    # The panel around the frame, which shows while the chat loads, matches it.
    around = page.locator("devtone-widget >> #frame").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert (luminance(around) < 0.05) == (theme == "dark"), around
    assert page.errors == []

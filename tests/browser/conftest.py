"""Headless Debian Chromium driven by Playwright (it never downloads a browser)."""

import pytest

from tests.browser.host_site import HostSite

# Without the background-networking flags Chromium keeps dialing Google's hosts, which
# this machine's closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context (its own localStorage, like another person)."""
    contexts = []

    def open_page():
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.dialogs = []
        page.console = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: page.console.append(message.text))
        page.on(
            "dialog",
            lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


# Every timing shortened through config, so the tier scenarios take seconds, not minutes.
FAST_TIMINGS = {
    "DEVTONE_SSE_HELLO_TIMEOUT": "1",
    "DEVTONE_SSE_HEARTBEAT": "0.5",
    "DEVTONE_LONGPOLL_WAIT": "3",
    "DEVTONE_POLL_INTERVAL": "1",
    "DEVTONE_BACKOFF_INITIAL_MS": "200",
    "DEVTONE_BACKOFF_MAX_MS": "2000",
}


@pytest.fixture
def host_site(tmp_path):
    """A customer's website on http://localhost:<port> (another origin than devtone's)."""
    directory = tmp_path / "site"
    directory.mkdir()
    site = HostSite(directory)
    yield site
    site.close()

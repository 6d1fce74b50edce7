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


@pytest.fixture(scope="package")
def chromium(chromium_path):
    """One Chromium for all the browser tests, `.browser` relaunched if it ever goes away: a launch
    costs a second or two, and every test gets contexts of its own anyway (no storage,
    cookie, lock or channel is shared between contexts)."""
    from playwright.sync_api import sync_playwright

    class Chromium:
        browser = None

        def launched(self):
            if self.browser is None or not self.browser.is_connected():
                self.browser = playwright.chromium.launch(
                    executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
                )
            return self.browser

    with sync_playwright() as playwright:
        holder = Chromium()
        yield holder
        if holder.browser is not None and holder.browser.is_connected():
            holder.browser.close()


@pytest.fixture
def browser(chromium):
    """The browser tests' Chromium; every context a test opens in it is closed after the test."""
    browser = chromium.launched()
    yield browser
    for context in list(browser.contexts):
        context.close()


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context (its own localStorage, like another person), in
    the browser language `locale` ("pt-BR": Accept-Language and navigator.language) and
    the `color_scheme` ("light", "dark") the person's system asks for, in `timezone_id`
    (an IANA name; the machine's when left out)."""
    contexts = []

    def open_page(locale=None, color_scheme=None, timezone_id=None):
        context = browser.new_context(
            locale=locale, color_scheme=color_scheme, timezone_id=timezone_id
        )
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

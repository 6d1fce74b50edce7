"""docs/screenshots/: the chat page, the widget (closed, open, on a phone) and the
dashboard, in the light and dark theme, in English and Brazilian Portuguese.

`make screenshots` runs this. It starts devtone as `make run` does (`python wsgi.py`) on a
loopback port the system picks, with a throwaway SQLite database seeded through the domain
(tools/demo_conversations.py), serves a small shop page on another origin for the widget,
drives Debian's Chromium through Playwright, and stops the server it started by its PID.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from demo_conversations import Chat
    from playwright.sync_api import Browser, BrowserContext, Frame, Page

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
THEMES = ("light", "dark")
LANGUAGES = ("en", "pt-BR")
# tests/browser/conftest.py's flags: without the background-networking ones Chromium
# keeps dialing Google's hosts; --no-sandbox for root in containers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# A plain shop page for the widget to sit on, in the visitor's language and theme.
SHOP = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{shop}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root {{ color-scheme: light dark; font: 17px/1.5 system-ui, sans-serif;
          background: #fbf8f3; color: #2b2118; }}
  @media (prefers-color-scheme: dark) {{ :root {{ background: #1c1915; color: #eee6da; }} }}
  body {{ max-width: 880px; margin: 0 auto; padding: 2.5rem 1.5rem; }}
  .product {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
             gap: 2rem; align-items: center; }}
  .picture {{ aspect-ratio: 1; border-radius: 18px;
             background: #4a7bab; }}
  .price {{ font-size: 1.6rem; font-weight: 700; }}
  @media (max-width: 600px) {{ .product {{ grid-template-columns: 1fr; }} }}
</style></head><body>
<header><strong>{shop}</strong></header>
<main class="product"><div class="picture" role="img" aria-label="{item}"></div>
<div><h1>{item}</h1><p>{blurb}</p><p class="price">{price}</p></div></main>
<script src="{devtone}/widget.js" data-title="{title}" async></script>
</body></html>
"""
SHOP_TEXT = {
    "en": {
        "shop": "Northwind Socks",
        "item": "Merino walking socks",
        "blurb": "Soft, warm and made to last: three pairs in ocean blue.",
        "price": "$24.00",
        "title": "Northwind support",
    },
    "pt-BR": {
        "shop": "Meias Ventania",
        "item": "Meias de caminhada em merino",
        "blurb": "Macias, quentes e duráveis: três pares em azul-oceano.",
        "price": "R$ 119,90",
        "title": "Atendimento Ventania",
    },
}


def main() -> None:
    """Seed, serve, shoot every page in every theme and language, stop."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("Chromium is not installed (apt-get install chromium)")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="devtone-screenshots-") as scratch:
        shop = ShopSite(Path(scratch) / "shop")
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{scratch}/devtone.sqlite",
            "DEVTONE_INSTANCE_PATH": f"{scratch}/instance",
            "DEVTONE_HOST": "127.0.0.1",
            "DEVTONE_PORT": "0",
            "DEVTONE_EMBED_ORIGINS": shop.origin,
        }
        chats = seed(env)
        server = start_server(env, Path(scratch) / "devtone.log")
        try:
            shoot(chromium, server.url, shop, chats)
        finally:
            server.stop()
            shop.close()
    print(f"{len(list(OUT.glob('*.png')))} screenshots in {OUT.relative_to(ROOT)}")


def seed(env: dict[str, str]) -> dict:
    """The schema (as `make run` makes it) and the desk's conversations, in this process,
    before the server opens the database."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import demo_conversations

    from devtone import cli, create_app
    from devtone.extensions import db

    app = create_app()
    cli.init_db(app)
    with app.app_context():
        chats = demo_conversations.seed()
        db.engine.dispose()
    return chats


class Server:
    """The devtone process this script started, and where it listens."""

    def __init__(self, process: subprocess.Popen, url: str):
        self.process = process
        self.url = url

    def stop(self) -> None:
        """Ctrl-C, as at the terminal (serve() stops cleanly), then SIGKILL if need be:
        only this PID."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(env: dict[str, str], log: Path) -> Server:
    """`python wsgi.py` on port 0; its first line names the port the system gave it."""
    process = subprocess.Popen(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
        text=True,
    )
    line = process.stdout.readline()  # blocks until it listens, or exits
    found = re.search(r"(http://127\.0\.0\.1:\d+)/chat", line)
    if not found:
        process.kill()
        sys.exit(f"devtone did not start: {line!r}\n{log.read_text()}")
    # Drain the rest so a full pipe never blocks the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return Server(process, found.group(1))


class ShopSite:
    """The customer's shop on http://localhost:<port>: another origin than devtone's."""

    def __init__(self, directory: Path):
        directory.mkdir()
        self.directory = directory
        handler = functools.partial(Quiet, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, language: str, devtone: str) -> str:
        name = f"shop-{language}.html"
        text = SHOP_TEXT[language]
        (self.directory / name).write_text(
            SHOP.format(lang=language, devtone=devtone, **text), encoding="utf-8"
        )
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def shoot(chromium: str, url: str, shop: ShopSite, chats: dict) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        for language in LANGUAGES:
            for theme in THEMES:
                shots = Shots(browser, url, shop, chats[language], language, theme)
                shots.chat_page()
                shots.widget()
                shots.dashboard()
        browser.close()


class Shots:
    """The screenshots of one language in one theme."""

    def __init__(
        self, browser: Browser, url: str, shop: ShopSite, chat: Chat, language: str, theme: str
    ):
        self.browser, self.url, self.shop, self.chat = browser, url, shop, chat
        self.language, self.theme = language, theme

    def context(self, viewport: dict = DESKTOP, storage: dict | None = None) -> BrowserContext:
        """A fresh browser in this language and theme; `storage`: localStorage entries of
        the origin of the first page it opens (what a returning visitor's browser keeps)."""
        context = self.browser.new_context(
            locale=self.language,
            color_scheme=self.theme,
            viewport=viewport,
            timezone_id="UTC",  # the seeded times are UTC: the day line falls where seeded
            reduced_motion="reduce",  # no half-finished transition in a picture
        )
        if storage:
            entries = json.dumps(storage)
            context.add_init_script(
                f"for (const [key, value] of Object.entries({entries}))"
                " localStorage.setItem(key, value);"
            )
        return context

    def save(self, page: Page, what: str) -> None:
        page.wait_for_timeout(300)  # fonts and the last layout settle
        page.screenshot(path=OUT / f"{what}-{self.theme}-{self.language}.png")
        print(f"  {what}-{self.theme}-{self.language}.png")

    def chat_page(self) -> None:
        context = self.context(storage={"devtone.visitor": json.dumps(self.chat.stored())})
        page = context.new_page()
        page.goto(f"{self.url}/chat")
        live(page)
        self.save(page, "chat")
        context.close()

    def widget(self) -> None:
        shop = self.shop.page(self.language, self.url)
        context = self.context()
        page = context.new_page()
        page.goto(shop)
        page.locator("devtone-widget >> #launcher").wait_for()
        self.save(page, "widget-closed")
        context.close()

        # A returning visitor: the host page keeps the chat's record (host-store.js).
        kept = {
            f"devtone.visitor:{self.url}": json.dumps(self.chat.stored()),
            f"devtone.conversation:{self.url}": "open",
        }
        for what, viewport in (("widget-open", DESKTOP), ("widget-phone", PHONE)):
            context = self.context(viewport=viewport, storage=kept)
            page = context.new_page()
            page.goto(shop)
            page.locator("devtone-widget >> #launcher").click()
            live(chat_frame(page, f"{self.url}/embed"))
            self.save(page, what)
            context.close()

    def dashboard(self) -> None:
        from demo_conversations import AGENT_EMAIL, AGENT_PASSWORD

        context = self.context()
        page = context.new_page()
        page.goto(f"{self.url}/dashboard/login")
        page.fill("#email", AGENT_EMAIL)
        page.fill("#password", AGENT_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r"/dashboard$"))
        page.locator(
            f"#conversation-list li[data-conversation-id='{self.chat.conversation_id}']"
        ).click()
        live(page)
        page.locator("#transcript .message").last.wait_for()
        self.save(page, "dashboard")
        context.close()


def live(page_or_frame: Page | Frame) -> None:
    """Connected, and the conversation's messages shown."""
    page_or_frame.locator("#connection[data-state='live']").wait_for(timeout=15_000)
    page_or_frame.locator(".message__body").last.wait_for(timeout=15_000)


def chat_frame(page: Page, embed: str, tries: int = 100) -> Frame:
    """The widget's chat (the frame at `embed`), once the widget has framed it."""
    for _ in range(tries):
        for frame in page.frames:
            if frame.url.startswith(embed):
                return frame
        page.wait_for_timeout(100)
    raise RuntimeError("the widget never framed the chat")


if __name__ == "__main__":
    main()

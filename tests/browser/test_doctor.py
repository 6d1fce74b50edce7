"""The admin's doctor page in Chromium, through a real nginx: the same checks as the
command line, run from the browser, with the same findings and fixes."""

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard_pages import sign_in
from tests.browser.pages import documented_api_location
from tests.conftest import ON_SQLITE
from tests.doctor.broken_proxies import BUFFERING, COMPRESSING, SHORT_READ_TIMEOUT, TIMINGS

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks

CHECKS = (
    "stream_opens",
    "stream_buffered",
    "stream_compressed",
    "idle_stream_cut",
    "long_poll_cut",
    "clock_skew",
    "http_version",
)


def run_doctor(page, url, admin):
    """Sign in through the proxy, open the doctor from the dashboard, run it, wait for it."""
    sign_in(page, url, admin)
    page.click("a[href='/dashboard/doctor']")  # linked from the dashboard's header
    page.click("#doctor-run")
    expect(page.locator("#doctor-findings > li")).to_have_count(len(CHECKS), timeout=30_000)


def statuses(page):
    return {
        check: page.locator(f"[data-check='{check}']").get_attribute("data-status")
        for check in CHECKS
    }


@pytest.mark.parametrize(
    ("proxy_config", "failed", "fix"),
    [
        (BUFFERING, {"stream_buffered"}, "proxy_buffering off;"),
        (COMPRESSING, {"stream_compressed"}, "gzip off;"),
        (SHORT_READ_TIMEOUT, {"idle_stream_cut", "long_poll_cut"}, "proxy_read_timeout 1h;"),
    ],
    ids=["proxy_buffering on", "gzip on for text/event-stream", "read timeout below heartbeat"],
)
def test_the_doctor_page_names_what_the_proxy_breaks_with_its_fixes(
    live_server, nginx, new_page, admin, proxy_config, failed, fix
):
    proxy = nginx(live_server(**TIMINGS)).configure(**proxy_config)
    page = new_page()
    run_doctor(page, proxy.url, admin)
    seen = statuses(page)
    assert {check for check, status in seen.items() if status == "fail"} == failed, seen
    assert seen["clock_skew"] == "pass"
    expect(page.locator("#doctor-summary")).to_have_attribute("data-status", "fail")
    summary = "1 check" if len(failed) == 1 else f"{len(failed)} checks"
    expect(page.locator("#doctor-summary")).to_have_text(f"{summary} did not pass.")
    first = page.locator(f"[data-check='{sorted(failed)[0]}']")
    expect(first.locator(".doctor__fix[data-for='nginx'] pre")).to_contain_text(fix)
    expect(first.locator(".doctor__fix[data-for='apache']")).to_be_visible()
    expect(first.locator(".doctor__fix[data-for='cdn']")).to_be_visible()
    assert page.errors == []


def test_through_the_documented_nginx_the_doctor_page_passes_every_check(
    live_server, nginx, new_page, admin
):
    proxy = nginx(live_server(**TIMINGS)).configure(api_location=documented_api_location())
    page = new_page()
    run_doctor(page, proxy.url, admin)
    seen = statuses(page)
    assert set(seen.values()) == {"pass", "info"}, seen
    assert seen["http_version"] == "info"  # plain http:// in Chromium is HTTP/1.1
    expect(page.locator("#doctor-summary")).to_have_text("Every check passed.")
    expect(page.locator("#doctor-summary")).to_have_attribute("data-status", "pass")
    assert page.errors == []


def test_the_doctor_page_speaks_portuguese_and_keeps_configuration_as_code(
    live_server, nginx, new_page, admin
):
    proxy = nginx(live_server(**TIMINGS)).configure(**COMPRESSING)
    page = new_page(locale="pt-BR")
    run_doctor(page, proxy.url, admin)
    compressed = page.locator("[data-check='stream_compressed']")
    expect(compressed).to_contain_text("Falhou")
    expect(compressed).to_contain_text("O stream chegou com Content-Encoding: gzip.")
    expect(page.locator("#doctor-summary")).to_have_text("1 verificação não passou.")
    config = compressed.locator(".doctor__fix[data-for='nginx'] pre")
    expect(config).to_have_attribute("translate", "no")
    expect(config).to_contain_text("gzip off;")


def test_an_agent_who_is_not_an_admin_has_no_doctor(live_server, new_page, agent):
    server = live_server(**TIMINGS)
    page = new_page()
    sign_in(page, server.url, agent)
    expect(page.locator("a[href='/dashboard/doctor']")).to_have_count(0)
    answer = page.goto(f"{server.url}/dashboard/doctor")
    assert answer.status == 403


def test_the_run_button_waits_for_its_script_so_an_early_click_is_never_lost(
    live_server, new_page, admin
):
    # CI once clicked "Run the checks" before the module script listened: nothing ran.
    url = live_server(**TIMINGS).url
    page = new_page()
    sign_in(page, url, admin)
    held = []
    page.route("**/doctor*.js", lambda route: held.append(route))  # the script held back
    # Module scripts hold DOMContentLoaded back: wait only for the page to arrive.
    page.goto(f"{url}/dashboard/doctor", wait_until="commit")
    expect(page.locator("#doctor-run")).to_be_disabled()
    for _ in range(100):  # until the browser has asked for the script (5 s at most)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the doctor's script was never asked for"
    for route in held:
        route.continue_()
    page.click("#doctor-run")  # waits until the script has enabled it
    expect(page.locator("#doctor-findings > li")).to_have_count(len(CHECKS), timeout=30_000)
    assert page.errors == []

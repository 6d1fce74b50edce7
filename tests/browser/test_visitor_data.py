"""The admins' page for a visitor's data: Export downloads the JSON file, Erase needs its
box ticked, then says what it erased; in both languages and both themes."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard_pages import sign_in
from tests.conftest import ON_SQLITE
from tests.visitor_data_steps import EMAIL, file_bytes, full_history, traces_in_database

pytestmark = [pytest.mark.browser, ON_SQLITE]  # a form and a download: the same on both stacks

WORDS = {
    "en": {"link": "Visitor data", "download": "Download the export", "erase": "Erase for good",
           "erased": "1 conversation erased."},
    "pt-BR": {"link": "Dados de visitantes", "download": "Baixar a exportação",
              "erase": "Apagar para sempre", "erased": "1 conversa apagada."},
}  # fmt: skip


@pytest.mark.parametrize(("locale", "theme"), [("en", "light"), ("pt-BR", "dark")])
def test_an_admin_downloads_the_export_then_erases_after_confirming(
    app, live_server, new_page, admin, agent, locale, theme
):
    words = WORDS[locale]
    history = full_history(app, agent)
    server = live_server(DEVTONE_UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
    page = new_page(locale=locale, color_scheme=theme)
    sign_in(page, server.url, admin)
    page.get_by_role("link", name=words["link"]).click()
    expect(page).to_have_url(re.compile(r"/dashboard/visitor-data$"))

    page.fill("#export-email", EMAIL)
    with page.expect_download() as downloading:
        page.get_by_role("button", name=words["download"]).click()
    download = downloading.value
    assert download.suggested_filename.startswith("devtone-visitor-export-")
    [item] = json.loads(open(download.path(), encoding="utf-8").read())["conversations"]
    assert {f["id"]: file_bytes(f) for f in item["attachments"]} == history.files

    # Without the box ticked the browser keeps the form (and the server would refuse it).
    page.fill("#erase-email", EMAIL)
    page.get_by_role("button", name=words["erase"]).click()
    assert page.locator("#erase-confirm").evaluate("box => box.validity.valueMissing")
    expect(page).to_have_url(re.compile(r"/dashboard/visitor-data$"))
    assert traces_in_database(app)
    page.check("#erase-confirm")
    page.get_by_role("button", name=words["erase"]).click()
    expect(page.locator(".notice[role=status]")).to_have_text(words["erased"])
    assert traces_in_database(app) == []
    assert page.errors == []

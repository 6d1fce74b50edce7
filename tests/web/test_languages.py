"""A page and an API error speak the reader's language: English or Brazilian Portuguese."""

import json
import re

import pytest

from devtone.web.i18n import language_tag


@pytest.mark.parametrize(
    ("requested", "tag"),
    [
        ("pt", "pt-BR"),
        ("pt_PT", "pt-BR"),
        ("PT-br", "pt-BR"),
        ("en-GB", "en"),
        ("de", None),
        ("", None),
    ],
)
def test_a_requested_language_maps_to_the_closest_one_devtone_speaks(requested, tag):
    assert language_tag(requested) == tag


def _lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def _browser_texts(page: str) -> dict:
    block = re.search(
        r'<script type="application/json" id="devtone-texts">(.*?)</script>', page, re.S
    )
    return json.loads(block.group(1)) if block else {}


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE", "en"),
        (None, "en"),
    ],
)
def test_the_chat_page_follows_the_browsers_language(client, accept, lang):
    headers = {"Accept-Language": accept} if accept else {}
    answer = client.get("/chat", headers=headers)
    assert _lang(answer.get_data(as_text=True)) == lang
    assert "Accept-Language" in answer.headers["Vary"]


def test_the_widgets_locale_option_wins_over_the_browser(client):
    page = client.get("/embed?locale=pt-BR", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert _lang(page) == "pt-BR"
    page = client.get("/embed?locale=en", headers={"Accept-Language": "pt-BR"}).get_data(
        as_text=True
    )
    assert _lang(page) == "en"


def test_a_portuguese_page_carries_the_browsers_texts_and_an_english_one_none(client):
    portuguese = _browser_texts(
        client.get("/chat", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    )
    english = _browser_texts(
        client.get("/chat", headers={"Accept-Language": "en"}).get_data(as_text=True)
    )
    assert english == {}
    assert portuguese["No messages yet"] == "Nenhuma mensagem ainda"
    assert portuguese["{count} unread message"]["other"] == "{count} mensagens não lidas"
    assert all(isinstance(text, (str, dict)) and text for text in portuguese.values())


def test_an_api_error_is_in_the_callers_language_with_its_code_unchanged(client, visitor):
    answers = {
        language: client.post(
            f"/api/conversations/{visitor.id}/messages",
            json={"body": "   "},
            headers={**visitor.headers, "Accept-Language": language},
        )
        for language in ("en", "pt-BR")
    }
    english, portuguese = (answers[language].get_json()["error"] for language in ("en", "pt-BR"))
    assert english == {"code": "blank", "message": "The message is empty.", "field": "body"}
    assert portuguese == {"code": "blank", "message": "A mensagem está vazia.", "field": "body"}


def test_an_error_with_a_figure_is_filled_after_translation(client, visitor):
    answer = client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "x" * 5000},
        headers={**visitor.headers, "Accept-Language": "pt-BR"},
    )
    assert answer.get_json()["error"]["message"] == "A mensagem passa de 4000 caracteres."


def test_an_instant_on_a_page_is_written_the_readers_way(app):
    from devtone.web.i18n import moment

    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert moment("2026-12-06T14:02:00Z") == "6 de dez. de 2026 14:02:00 UTC"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert moment("2026-12-06T14:02:00Z") == "Dec 6, 2026, 2:02:00\u202fPM UTC"

"""A site's branding and language reach the chat in its widget: title, colour, greeting,
the visitor's language; anything malformed is left out, never shown or executed."""

import re

import pytest

SHOP = "https://shop.example.com"


@pytest.fixture
def client(app):
    app.config["EMBED_ORIGINS"] = (SHOP,)
    return app.test_client()


def _page(client, query: str) -> str:
    answer = client.get(f"/embed?origin={SHOP}&{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_frame_shows_the_sites_title_greeting_and_colour_in_its_language(client):
    page = _page(
        client,
        "locale=pt-BR&title=Loja%20Azul&color=%230a7d32&greeting=Ol%C3%A1!%20Como%20podemos%20ajudar%3F",
    )
    assert '<html lang="pt-BR">' in page
    assert '<h1 class="chat__title">Loja Azul</h1>' in page
    assert '<p class="greeting__team">Loja Azul</p>' in page
    assert '<p class="greeting__text">Olá! Como podemos ajudar?</p>' in page
    assert 'data-brand-color="#0a7d32"' in page
    assert "devtone" not in re.sub(r"<[^>]*>", " ", page).replace("devtone-texts", "")


def test_markup_in_a_title_or_greeting_is_text_and_a_malformed_colour_is_dropped(client):
    page = _page(
        client, "title=%3Cb%3ELoja%3C/b%3E&greeting=%3Cscript%3Ex()%3C/script%3E&color=red;}body{x"
    )
    assert '<h1 class="chat__title">&lt;b&gt;Loja&lt;/b&gt;</h1>' in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    assert 'data-brand-color=""' in page


def test_a_title_too_long_is_cut_and_control_characters_go(client):
    page = _page(client, "title=" + "A" * 200 + "&greeting=Hi%0Athere%00")
    assert f'<h1 class="chat__title">{"A" * 80}</h1>' in page
    assert '<p class="greeting__text">Hi there</p>' in page


def test_without_branding_the_frame_greets_as_the_team(client):
    page = _page(client, "locale=en")
    assert '<h1 class="chat__title">Support</h1>' in page
    assert "greeting__text" not in page


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("pt-BR", {"title": "Fale conosco", "close": "Fechar o chat"}),
        ("en", {"title": "Chat with us", "close": "Close chat"}),
    ],
)
def test_the_loader_gets_its_words_in_the_visitors_language(client, locale, words):
    answer = client.get(f"/embed/allowed?locale={locale}", headers={"Origin": SHOP})
    body = answer.get_json()
    assert body["allowed"] is True
    assert {key: body["words"][key] for key in words} == words
    assert "{count}" in body["words"]["unread_one"] and "{count}" in body["words"]["unread_other"]
    assert "Accept-Language" in answer.headers["Vary"]


def test_the_loader_follows_the_browsers_language_without_a_locale(client):
    answer = client.get("/embed/allowed", headers={"Origin": SHOP, "Accept-Language": "pt-BR"})
    assert answer.get_json()["words"]["title"] == "Fale conosco"


def test_a_refused_site_gets_no_words(client):
    answer = client.get("/embed/allowed?locale=pt-BR", headers={"Origin": "https://evil.example"})
    assert answer.get_json() == {"allowed": False, "words": {}, "in_hours": True}

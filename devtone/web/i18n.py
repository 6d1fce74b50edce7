"""The page's language: English or Brazilian Portuguese, chosen per request.

Source texts are English and are their own keys (gettext's way). The server's templates
and error messages are translated by Flask-Babel from `translations/<locale>/messages.po`;
the browser's texts come from `translations/<locale>/js.po`, whose entries the server
writes into each page it renders (one JSON block: no extra request, one language only).
`make translations` extracts both catalogues from the sources and updates the .po files.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po
from flask import Flask, Response, request
from flask_babel import Babel, format_datetime, get_locale

#: The languages a page can be shown in, as BCP 47 tags; the first is the fallback.
LANGUAGES = ("en", "pt-BR")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def language_tag(requested: str | None) -> str | None:
    """The supported language closest to `requested` ("pt", "pt_PT", "PT-br" → "pt-BR")."""
    if not requested:
        return None
    primary = requested.replace("_", "-").split("-")[0].strip().lower()
    return next((tag for tag in LANGUAGES if tag.split("-")[0].lower() == primary), None)


def choose_language() -> str:
    """`?locale=` (the widget passes its option) wins, then the browser's Accept-Language."""
    chosen = language_tag(request.args.get("locale"))
    if chosen:
        return chosen
    # In the browser's order of preference; a Portuguese from Portugal reads Brazil's
    # better than English.
    exact = request.accept_languages.best_match(LANGUAGES)
    if exact:
        return exact
    for requested, _quality in request.accept_languages:
        chosen = language_tag(requested)
        if chosen:
            return chosen
    return LANGUAGES[0]


def _babel_locale() -> str:
    return choose_language().replace("-", "_")


#: CLDR's plural categories in the order gettext numbers a language's forms.
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")


@cache
def browser_texts(tag: str) -> dict[str, str | dict[str, str]]:
    """The browser's catalogue for `tag`: msgid → text; a plural's singular msgid → its
    forms by CLDR category ({"one": …, "other": …}), which the browser's Intl.PluralRules
    names. English has none: the browser's source texts are English already.
    """
    locale = tag.replace("-", "_")
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "js.po"
    if not path.exists():
        return {}
    with path.open("rb") as po:
        catalogue = read_po(po, locale=locale)
    tags = Locale.parse(locale).plural_form.tags | {"other"}
    categories = [category for category in PLURAL_ORDER if category in tags]
    texts: dict[str, str | dict[str, str]] = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = dict(zip(categories, message.string, strict=False))
            if all(forms.values()):
                texts[message.id[0]] = forms
        elif message.string:
            texts[message.id] = message.string
    return texts


def moment(value: str | datetime) -> str:
    """An instant (ISO 8601 text or a datetime) as the page's language writes it, in UTC:
    "6 Dec 2026, 14:02:00" / "6 de dez. de 2026 14:02:00" (CLDR, through Babel)."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return format_datetime(when, "medium") + " UTC"


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and give every template its language and the browser's texts."""
    babel.init_app(
        app,
        locale_selector=_babel_locale,
        default_translation_directories=str(TRANSLATIONS),
        default_timezone="UTC",
    )
    app.jinja_env.filters["moment"] = moment

    @app.context_processor
    def language() -> dict[str, object]:
        tag = str(get_locale()).replace("_", "-")
        return {"page_language": tag, "browser_texts": browser_texts(tag)}

    @app.after_request
    def vary_by_language(response: Response) -> Response:
        # A page's words follow Accept-Language: a shared cache must not hand a
        # Portuguese page to an English browser.
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
        return response

"""The translation catalogues: found in the sources, kept in `translations/`, checked.

Two catalogues per language, both gettext .po files a translator's tools open:
- `messages`: the server's texts (templates, form labels, error messages);
- `js`: the browser's texts (`_()`/`ngettext()` calls in static/js), which the server
  writes into each page (web/i18n.py).

`python -m devtone.catalogues update` (`make translations`) extracts both from the
sources, merges them into every language's .po (new texts arrive empty, changed ones
fuzzy) and compiles the server's .mo; `problems()` lists what is left to do, and a test
fails on any.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
TRANSLATIONS = PACKAGE / "translations"
#: Every language but the source's (English), as gettext names them.
LOCALES = ("pt_BR",)

#: The domain's typed errors carry English messages (the domain knows no language); the
#: extractor picks their first argument, and web/errors.py translates it when rendering.
ERROR_KEYWORDS = {
    name: None
    for name in (
        "Invalid",
        "BadRequest",
        "UnsupportedMediaType",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "Conflict",
        "Closed",
        "TooManyRequests",
        "TooLarge",
        "DevtoneError",
    )
}

SOURCES = {
    "messages": (
        [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")],
        {},
        {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, **ERROR_KEYWORDS},
    ),
    "js": ([("static/js/**.js", "javascript")], {}, {"_": None, "ngettext": (1, 2)}),
}


def extract(domain: str) -> Catalog:
    """A fresh template of `domain`'s texts, as found in the sources now."""
    method_map, options_map, keywords = SOURCES[domain]
    template = Catalog(project="devtone", fuzzy=False)
    found = extract_from_dir(
        PACKAGE, method_map, options_map, keywords=keywords, strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str, domain: str) -> Path:
    """Where `locale`'s catalogue of `domain` lives."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def read(locale: str, domain: str) -> Catalog:
    """`locale`'s catalogue of `domain` (empty when there is none yet)."""
    path = po_path(locale, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain, project="devtone", fuzzy=False)
    with path.open("rb") as po:
        return read_po(po, locale=locale, domain=domain)


def compiled(catalog: Catalog) -> bytes:
    """The .mo that gettext (and so Flask-Babel) reads for `catalog`."""
    mo = io.BytesIO()
    write_mo(mo, catalog)
    return mo.getvalue()


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    # File names without line numbers: a moved line does not churn every .po.
    write_po(out, catalog, width=100, ignore_obsolete=True, include_lineno=False, sort_output=True)
    path.write_bytes(out.getvalue())


def update() -> None:
    """Bring every language's catalogues up to date with the sources; compile the server's."""
    for domain in SOURCES:
        template = extract(domain)
        for locale in LOCALES:
            catalog = read(locale, domain)
            catalog.update(template, update_creation_date=False)
            _write(po_path(locale, domain), catalog)
    for locale in LOCALES:
        mo = po_path(locale, "messages").with_suffix(".mo")
        mo.write_bytes(compiled(read(locale, "messages")))


def problems() -> Iterator[str]:
    """Every text left untranslated, fuzzy or stale, and every .mo older than its .po."""
    for domain in SOURCES:
        wanted = {message.id for message in extract(domain) if message.id}
        for locale in LOCALES:
            yield from _gaps(f"{locale}/{domain}.po", read(locale, domain), wanted)
    for locale in LOCALES:
        mo = po_path(locale, "messages").with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(read(locale, "messages")):
            yield f"{locale}/messages.mo is not compiled from its .po (run make translations)"


def _gaps(name: str, catalog: Catalog, wanted: set) -> Iterator[str]:
    have = {message.id for message in catalog if message.id}
    for missing in sorted(map(str, wanted - have)):
        yield f"{name}: not in the catalogue (run make translations): {missing!r}"
    for stale in sorted(map(str, have - wanted)):
        yield f"{name}: no longer in the sources (run make translations): {stale!r}"
    for message in catalog:
        if not message.id or message.id not in wanted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            yield f"{name}: fuzzy, check it and drop the flag: {message.id!r}"
        elif not all(strings):
            yield f"{name}: untranslated: {message.id!r}"


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        update()
    left = list(problems())
    print("\n".join(left) or "Every text is translated.")
    sys.exit(1 if left and sys.argv[1:] == ["check"] else 0)

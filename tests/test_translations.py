"""Every text of the server and the browser is in the Brazilian Portuguese catalogues.

A text added to a template, an error or a script without its translation fails here, and
`make translations` then lists what is left to translate.
"""

from devtone import catalogues


def test_every_text_found_in_the_sources_is_translated_and_compiled():
    assert list(catalogues.problems()) == []


def test_a_text_missing_from_a_catalogue_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogues, "TRANSLATIONS", tmp_path)
    found = list(catalogues.problems())
    assert any("not in the catalogue" in problem and "messages.po" in problem for problem in found)
    assert any("js.po" in problem for problem in found)
    assert any("messages.mo is not compiled" in problem for problem in found)


def test_a_fuzzy_or_empty_translation_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogues, "TRANSLATIONS", tmp_path)
    catalogues.update()  # every text, none translated yet
    catalog = catalogues.read("pt_BR", "messages")
    first = next(message for message in catalog if message.id)
    first.string = "traduzido"
    first.flags.add("fuzzy")
    catalogues._write(catalogues.po_path("pt_BR", "messages"), catalog)
    found = list(catalogues.problems())
    assert f"pt_BR/messages.po: fuzzy, check it and drop the flag: {first.id!r}" in found
    assert any(problem.startswith("pt_BR/messages.po: untranslated") for problem in found)

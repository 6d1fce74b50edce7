"""`flask --app devtone visitor-export` and `visitor-erase`: the HTTP endpoints' twins for
whoever runs the server, audited as the command line."""

from __future__ import annotations

import json

from devtone.domain import audit
from tests.visitor_data_steps import (
    EMAIL,
    file_bytes,
    full_history,
    stored_files,
    traces_in_database,
)


def run(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def audited(app) -> list[dict]:
    with app.app_context():
        return audit.recent()


def test_visitor_export_writes_the_document_to_a_file(app, agent, tmp_path):
    history = full_history(app, agent)
    out = tmp_path / "zoe.json"
    result = run(app, "visitor-export", "--email", EMAIL.upper(), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "1 conversation(s) exported" in result.stderr
    [item] = json.loads(out.read_text(encoding="utf-8"))["conversations"]
    assert {f["id"]: file_bytes(f) for f in item["attachments"]} == history.files
    [entry] = audited(app)
    assert (entry["action"], entry["actor"]["kind"]) == ("visitor.export", "cli")


def test_visitor_export_without_output_writes_to_standard_output(app, agent):
    history = full_history(app, agent)
    result = run(app, "visitor-export", "--email", EMAIL)
    assert result.exit_code == 0, repr(result.exception)
    [item] = json.loads(result.stdout)["conversations"]
    assert item["conversation"]["id"] == history.id


def test_visitor_erase_asks_first_and_a_no_erases_nothing(app, agent):
    full_history(app, agent)
    result = run(app, "visitor-erase", "--email", EMAIL, input="n\n")
    assert result.exit_code == 1
    assert "Erase every conversation of" in result.stdout
    assert traces_in_database(app) and len(stored_files(app)) == 2
    assert audited(app) == []


def test_visitor_erase_with_yes_erases_and_says_how_much(app, agent):
    full_history(app, agent)
    result = run(app, "visitor-erase", "--email", EMAIL, "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 conversation(s) and 2 file(s) erased."
    assert traces_in_database(app) == [] and stored_files(app) == []
    [entry] = audited(app)
    assert (entry["action"], entry["actor"]["kind"]) == ("visitor.erase", "cli")


def test_a_confirmed_erasure_also_erases(app, agent):
    full_history(app, agent)
    assert run(app, "visitor-erase", "--email", EMAIL, input="y\n").exit_code == 0
    assert traces_in_database(app) == []


def test_an_address_that_is_none_is_an_error_that_says_so(app):
    for command in (["visitor-export"], ["visitor-erase", "--yes"]):
        result = run(app, *command, "--email", "not an address")
        assert result.exit_code == 1
        assert "This e-mail address is not valid." in result.stderr
    assert audited(app) == []

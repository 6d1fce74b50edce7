"""GET /api/visitors/export and POST /api/visitors/erase: administrators only (session and
CSRF), the export a JSON file to download, bad input the JSON error shape and nothing
changed or audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema_rs import Draft202012Validator  # schemathesis's validator

import devtone
from devtone.domain import audit, erasure
from tests.visitor_data_steps import (
    EMAIL,
    file_bytes,
    full_history,
    stored_files,
    traces_in_database,
)


def refused(answer, status: int, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["field"] == field
    return error


def audited(app) -> list[dict]:
    with app.app_context():
        return audit.recent()


def test_an_admin_downloads_the_visitors_data_as_one_json_file(app, admin, agent, sign_in):
    history = full_history(app, agent)
    answer = sign_in(admin).get("/api/visitors/export", query_string={"email": EMAIL})
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="devtone-visitor-export-')
    assert "ribeiro" not in disposition.lower()
    assert answer.headers["Cache-Control"] == "no-store"
    [item] = json.loads(answer.get_data(as_text=True))["conversations"]
    assert {f["id"]: file_bytes(f) for f in item["attachments"]} == history.files
    [entry] = audited(app)
    assert entry["action"] == "visitor.export"
    assert entry["actor"] == {"kind": "agent", "id": admin.id, "name": "Ada Admin"}


def test_an_export_that_matches_nothing_is_200_with_no_conversation(app, admin, sign_in):
    answer = sign_in(admin).get("/api/visitors/export?email=nobody@example.com")
    assert answer.status_code == 200
    assert json.loads(answer.get_data(as_text=True))["conversations"] == []


def test_an_admin_erases_the_visitors_data_and_their_token_reads_nothing_after(
    app, client, admin, agent, sign_in
):
    history = full_history(app, agent)
    answer = sign_in(admin).post("/api/visitors/erase", json={"email": EMAIL.lower()})
    assert answer.status_code == 200
    assert answer.get_json() == {"conversations": 1, "files": 2}
    assert traces_in_database(app) == [] and stored_files(app) == []
    headers = {"Authorization": f"Bearer {history.token}"}
    refused(client.get(f"/api/conversations/{history.id}", headers=headers), 404)
    refused(client.get(f"/api/conversations/{history.id}/messages", headers=headers), 404)
    [entry] = audited(app)
    assert (entry["action"], entry["detail"]["conversations"]) == ("visitor.erase", 1)


def test_an_agent_who_is_not_an_admin_may_neither_export_nor_erase(app, agent, sign_in):
    full_history(app, agent)
    maria = sign_in(agent)
    error = refused(maria.get(f"/api/visitors/export?email={EMAIL}"), 403)
    assert error["code"] == "admins_only"
    refused(maria.post("/api/visitors/erase", json={"email": EMAIL}), 403)
    assert traces_in_database(app) and audited(app) == []


def test_visitors_and_anonymous_callers_are_refused(app, client, visitor):
    bearer = {"Authorization": f"Bearer {visitor.token}"}
    refused(client.get(f"/api/visitors/export?email={EMAIL}", headers=bearer), 403)
    refused(client.post("/api/visitors/erase", json={"email": EMAIL}, headers=bearer), 403)
    refused(client.get(f"/api/visitors/export?email={EMAIL}"), 401)
    refused(client.post("/api/visitors/erase", json={"email": EMAIL}), 401)
    assert audited(app) == []


def test_an_erasure_without_the_csrf_token_is_refused(app, admin, agent, sign_in):
    full_history(app, agent)
    answer = sign_in(admin).client.post("/api/visitors/erase", json={"email": EMAIL})
    assert answer.status_code == 403
    assert traces_in_database(app) and audited(app) == []


@pytest.mark.parametrize("email", ["", "not an address", "<script>@x", "a" * 300 + "@x.com"])
def test_an_address_that_is_none_is_422_naming_email(app, admin, sign_in, email):
    me = sign_in(admin)
    refused(me.get("/api/visitors/export", query_string={"email": email}), 422, "email")
    refused(me.post("/api/visitors/erase", json={"email": email}), 422, "email")
    assert audited(app) == []


def test_an_export_without_an_address_is_422(app, admin, sign_in):
    refused(sign_in(admin).get("/api/visitors/export"), 422, "email")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({}, 422, "email"), ({"email": 7}, 422, "email"), ([EMAIL], 400, None), (None, 415, None)],
)
def test_an_erasure_body_that_names_no_address_is_refused(app, admin, sign_in, body, status, field):
    me = sign_in(admin)
    if body is None:
        answer = me.post("/api/visitors/erase", data="email=x", content_type="text/plain")
    else:
        answer = me.post("/api/visitors/erase", json=body)
    refused(answer, status, field)
    assert audited(app) == []


def test_the_erased_name_shows_in_the_dashboards_snapshot(app, admin, agent, sign_in):
    history = full_history(app, agent)
    me = sign_in(admin)
    me.post("/api/visitors/erase", json={"email": EMAIL})
    listed = me.get("/api/dashboard/snapshot").get_json()["conversations"]
    [shell] = [c for c in listed if c["id"] == history.id]
    assert shell["visitor"] == {"name": erasure.ERASED_NAME, "email": None}
    assert shell["last_message"]["body"] == ""


def test_the_export_is_the_document_the_openapi_contract_describes(app, admin, agent, sign_in):
    full_history(app, agent)
    full_history(app, agent, close=False)
    contract = yaml.safe_load((Path(devtone.__file__).parent / "openapi.yaml").read_text())
    schema = {"$ref": "#/components/schemas/VisitorExport", "components": contract["components"]}
    answer = sign_in(admin).get("/api/visitors/export", query_string={"email": EMAIL})
    document = json.loads(answer.get_data(as_text=True))
    Draft202012Validator(schema, validate_formats=True).validate(document)
    assert len(document["conversations"]) == 2


def test_the_refusal_reads_in_brazilian_portuguese(app, agent, sign_in):
    answer = sign_in(agent).get(
        f"/api/visitors/export?email={EMAIL}", headers={"Accept-Language": "pt-BR"}
    )
    assert refused(answer, 403)["message"] == (
        "Só um administrador pode exportar ou apagar os dados de um visitante."
    )

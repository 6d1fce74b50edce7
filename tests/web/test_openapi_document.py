"""GET /api/openapi.yaml: the contract file, served as YAML, and in step with the routes."""

from __future__ import annotations

import re

import yaml

from tests.servers import ROOT

DOCUMENT = ROOT / "devtone" / "openapi.yaml"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_the_contract_is_served_as_cacheable_yaml(client):
    answer = client.get("/api/openapi.yaml")
    assert answer.status_code == 200
    assert answer.mimetype == "application/yaml"
    assert answer.cache_control.public and answer.cache_control.max_age == 300
    assert answer.get_data() == DOCUMENT.read_bytes()
    again = client.get("/api/openapi.yaml", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_docs_openapi_yaml_is_the_packaged_file():
    assert (ROOT / "docs" / "openapi.yaml").resolve() == DOCUMENT.resolve()


def test_the_document_is_openapi_3_1_with_the_error_shape():
    document = yaml.safe_load(DOCUMENT.read_text())
    assert document["openapi"] == "3.1.0"
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "field"]


def test_every_route_is_documented_and_every_documented_path_exists(app):
    """The whole HTTP surface: a new route without its contract fails here."""
    routed = {
        (method, re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods & METHODS
    }
    paths = yaml.safe_load(DOCUMENT.read_text())["paths"]
    documented = {
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method.upper() in METHODS
    }
    assert routed - documented == set(), "routes missing from devtone/openapi.yaml"
    assert documented - routed == set(), "documented paths no route serves"

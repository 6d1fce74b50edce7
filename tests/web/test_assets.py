"""Pages load the committed build through asset_url(); its fingerprinted files are cached
for a year, everything else as before; a build missing a page's bundle stops the start."""

import json
import re

import pytest

from devtone import create_app
from devtone.web import assets
from tests.conftest import ON_SQLITE

YEAR = "public, max-age=31536000, immutable"
# What a page loads does not depend on the storage: SQLite is enough.


def _loaded(answer):
    """The URLs of the scripts and stylesheets a page loads."""
    return re.findall(
        r'<(?:script|link rel="stylesheet")[^>]+(?:src|href)="([^"]+)"',
        answer.get_data(as_text=True),
    )


def _manifest(app):
    return json.loads((assets.build_folder(app) / "manifest.json").read_text())


@ON_SQLITE
@pytest.mark.parametrize("path", ["/chat", "/embed"])
def test_the_chat_page_and_embed_load_one_script_and_one_stylesheet_of_the_build(app, path):
    built = _manifest(app)
    answer = app.test_client().get(path)
    assert _loaded(answer) == [
        f"/static/build/{built['devtone.css']}",
        f"/static/build/{built['chat.js']}",
    ]


@ON_SQLITE
def test_the_dashboard_and_monitor_load_their_own_bundles(app, sign_in, admin):
    built = _manifest(app)
    desk = sign_in(admin)
    assert f"/static/build/{built['dashboard.js']}" in _loaded(desk.get("/dashboard"))
    assert f"/static/build/{built['monitor.js']}" in _loaded(desk.get("/dashboard/monitor"))


@ON_SQLITE
def test_the_manifest_names_fingerprinted_files(app):
    for name, built in _manifest(app).items():
        stem, extension = name.replace("/", "-").rsplit(".", 1)
        assert re.fullmatch(rf"{stem}-[A-Z0-9]{{8}}\.{extension}", built), built


@ON_SQLITE
def test_fingerprinted_files_are_cached_for_a_year_and_never_revalidated(client):
    for url in _loaded(client.get("/chat")):
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == YEAR
        assert answer.headers["ETag"]


@ON_SQLITE
def test_everything_else_keeps_its_caching(client):
    assert client.get("/static/js/chat.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/widget.js").headers["Cache-Control"] == "public, max-age=300"
    assert "immutable" not in client.get("/chat").headers.get("Cache-Control", "")


@ON_SQLITE
@pytest.mark.parametrize("name", ["manifest.json", "widget.js", "chat-AAAAAAAA.js"])
def test_only_the_manifests_files_are_served_as_fingerprinted(client, name):
    assert client.get(f"/static/build/{name}").status_code == 404


def test_a_build_without_a_bundle_a_template_loads_stops_the_start(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text(json.dumps({"devtone.css": "devtone-X.css"}))
    monkeypatch.setattr(assets, "build_folder", lambda app: tmp_path)
    with pytest.raises(assets.MissingAsset, match=r"chat\.html.*'chat\.js'.*make assets"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db"})


def test_a_missing_manifest_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "build_folder", lambda app: tmp_path)
    with pytest.raises(assets.MissingAsset, match="make assets"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db"})

"""The widget's pages and their header policy: /embed for allowed sites, nothing else framed."""

import re

import pytest

from devtone.config import ConfigError, load

ALLOWED = ("https://shop.example.com", "http://localhost:8765")


@pytest.fixture
def embedding_app(app):
    app.config["EMBED_ORIGINS"] = ALLOWED
    return app


def _frame_ancestors(answer):
    """The frame-ancestors directive of the answer's Content-Security-Policy."""
    policy = answer.headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith("frame-ancestors "))


def _host_origin(answer):
    return re.search(r'data-host-origin="([^"]*)"', answer.get_data(as_text=True)).group(1)


def test_embed_may_be_framed_by_the_allowed_sites_only(embedding_app):
    answer = embedding_app.test_client().get("/embed?origin=https://shop.example.com")
    assert answer.status_code == 200
    assert _frame_ancestors(answer) == (
        "frame-ancestors 'self' https://shop.example.com http://localhost:8765"
    )
    assert "X-Frame-Options" not in answer.headers
    assert _host_origin(answer) == "https://shop.example.com"
    assert "public" in answer.headers["Cache-Control"]


def test_embed_talks_to_no_host_it_was_not_told_to_trust(embedding_app):
    answer = embedding_app.test_client().get("/embed?origin=https://evil.example")
    assert _host_origin(answer) == ""
    assert "evil" not in answer.headers["Content-Security-Policy"]


def test_the_loader_learns_whether_the_asking_site_may_show_the_widget(embedding_app):
    client = embedding_app.test_client()
    yes = client.get("/embed/allowed", headers={"Origin": "https://shop.example.com"})
    no = client.get("/embed/allowed", headers={"Origin": "https://evil.example"})
    nobody = client.get("/embed/allowed")
    assert [a.get_json()["allowed"] for a in (yes, no, nobody)] == [True, False, False]
    for answer in (yes, no):
        assert answer.headers["Access-Control-Allow-Origin"] == "*"  # any site may ask
        assert "Origin" in answer.headers["Vary"]  # a cache keeps one answer per site


def test_without_embed_origins_only_devtone_itself_may_frame_embed(client):
    answer = client.get("/embed?origin=https://shop.example.com")
    assert _frame_ancestors(answer) == "frame-ancestors 'self'"
    assert _host_origin(answer) == ""


@pytest.mark.parametrize(
    "path", ["/chat", "/dashboard/login", "/dashboard", "/api/realtime/negotiate", "/healthz"]
)
def test_every_other_page_refuses_to_be_framed(embedding_app, path):
    answer = embedding_app.test_client().get(path)
    assert _frame_ancestors(answer) == "frame-ancestors 'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_embed_shares_the_chat_page_markup(client):
    chat = client.get("/chat").get_data(as_text=True)
    embed = client.get("/embed").get_data(as_text=True)
    bundle = re.search(r'src="(/static/build/chat-[^"]+)"', chat).group(1)
    for element in ('id="start-form"', 'id="messages"', 'id="message-form"', bundle):
        assert element in chat and element in embed


@pytest.mark.parametrize("raw", ["shop.example.com", "https://shop.example.com/path", "ftp://x"])
def test_a_malformed_embed_origin_stops_the_start_naming_the_key(tmp_path, raw):
    with pytest.raises(ConfigError, match="DEVTONE_EMBED_ORIGINS"):
        load({"DEVTONE_EMBED_ORIGINS": raw}, str(tmp_path))


def test_embed_origins_are_read_from_the_environment(tmp_path):
    raw = "https://a.example, http://localhost:8765/"
    settings = load({"DEVTONE_EMBED_ORIGINS": raw}, str(tmp_path))
    assert settings["EMBED_ORIGINS"] == ("https://a.example", "http://localhost:8765")


def test_the_loader_is_a_cacheable_script_any_site_may_load(client):
    answer = client.get("/widget.js")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert "public" in answer.headers["Cache-Control"]
    assert "max-age=300" in answer.headers["Cache-Control"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/widget.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304

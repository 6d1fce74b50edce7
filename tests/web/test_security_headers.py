"""Security headers on every kind of response, and the cookies' flags in each mode."""

import pytest

from devtone import create_app

# A key made by `secrets.token_hex(32)`: production refuses a predictable one.
STRONG_SECRET = "5d81a3f0c26e94b7d1f83a0e5c9b27d46a1e08f3b5c27d9e4a60f1b83c5d29e7"


def _directives(answer):
    policy = answer.headers["Content-Security-Policy"]
    return dict(d.split(" ", 1) for d in policy.split("; "))


def _assert_secured(answer):
    directives = _directives(answer)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/chat", 200),
        ("/dashboard/login", 200),
        ("/dashboard", 302),
        ("/api/realtime/negotiate", 200),
        ("/healthz", 200),
        ("/static/css/devtone.css", 200),
        ("/static/js/chat.js", 200),
        ("/widget.js", 200),
        ("/api/conversations/1", 401),
        ("/api/no-such-thing", 404),
        ("/no-such-page", 404),
    ],
)
def test_every_response_carries_the_security_headers(client, path, status):
    answer = client.get(path)
    assert answer.status_code == status
    _assert_secured(answer)
    assert _directives(answer)["frame-ancestors"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_a_stream_carries_the_security_headers(client, visitor):
    answer = client.get(
        f"/api/conversations/{visitor.id}/events?token={visitor.token}", buffered=False
    )
    try:
        assert answer.mimetype == "text/event-stream"
        _assert_secured(answer)
    finally:
        answer.close()


def test_an_unexpected_error_carries_the_security_headers(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    answer = client.get("/boom")
    assert answer.status_code == 500
    _assert_secured(answer)


def test_embed_keeps_the_page_policy_and_only_loosens_who_may_frame_it(client):
    answer = client.get("/embed")
    _assert_secured(answer)
    assert _directives(answer)["frame-ancestors"] == "'self'"
    assert "X-Frame-Options" not in answer.headers


def test_the_loader_stays_loadable_by_any_site(client):
    answer = client.get("/widget.js")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.mimetype == "text/javascript"


def test_development_cookies_are_httponly_and_lax_but_not_secure(client):
    cookie = client.get("/dashboard/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_production_cookies_are_secure_httponly_and_lax(monkeypatch, tmp_path):
    monkeypatch.setenv("DEVTONE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    cookie = app.test_client().get("/dashboard/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

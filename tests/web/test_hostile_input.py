"""Hostile input against the visitor and agent APIs and the sign-in forms: always a 4xx in
the documented shape, never a 5xx, and nothing stored changes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import _CSRF_INPUT, stored_counts

JSON = "application/json"
HUGE = 99999999999999999999  # past every integer column (and SQLite's 64-bit binding)

# Every POST of the conversation API with a body that would be accepted, by who may send it.
VISITOR_POSTS = {
    "/api/conversations": {"name": "Ada", "email": "ada@example.com"},
    "/api/conversations/{id}/messages": {"body": "Hello", "client_id": "c-1"},
    "/api/conversations/{id}/typing": {"typing": True},
    "/api/conversations/{id}/read": {"seq": 0},
    "/api/conversations/{id}/marks": {"delivered": 0, "seen": 0},
}
AGENT_POSTS = {**VISITOR_POSTS, "/api/conversations/{id}/assign": {"agent_id": None}}

# Values of the wrong JSON type (or out of range) for each field; every one is a 422.
WRONG = {
    "name": [None, 1, 1.5, True, [], {}, ["Ada"], {"first": "Ada"}],
    "email": [1, 1.5, True, [], {}, ["ada@example.com"]],
    "body": [None, 1, 1.5, False, [], {}, ["Hello"]],
    "client_id": [1, 1.5, True, [], {}, "", "a b", "x" * 65],
    "typing": [None, 1, 0, "true", [], {}],
    "seq": [None, "0", 1.5, True, -1, [], {}, HUGE, 2**31],
    "delivered": [None, "0", 1.5, True, -1, [], {}, HUGE, 2**31],
    "seen": [None, "0", 1.5, True, -1, [], {}, HUGE, 2**31],
    "agent_id": ["1", 1.5, True, 0, -1, [], {}, HUGE, 2**31],
}


def refused(answer, status: int | None = None) -> dict:
    """Assert a 4xx (or exactly `status`) in the JSON error shape; return the error."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data()[:300])
    if status is not None:
        assert answer.status_code == status, answer.get_data()[:300]
    assert answer.content_type == JSON
    body = answer.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body["error"]


@pytest.fixture(autouse=True)
def generous_limits(app):
    """The corpus sends hundreds of refused requests from one address: here every one must
    reach the parsing it tests. The limits have their own tests (test_limits.py)."""
    app.config.update(
        CONVERSATION_RATE_LIMIT="100000 per minute", MESSAGE_RATE_LIMIT="100000 per minute"
    )


@pytest.fixture
def admin_client(sign_in, admin):
    """An administrator's client: reaches every branch an agent does, and more."""
    return sign_in(admin)


def _visitor_post(client, visitor, path, **kwargs):
    return client.post(path.format(id=visitor.id), headers=visitor.headers, **kwargs)


def _agent_post(agent_client, visitor, path, **kwargs):
    headers = {"X-CSRFToken": agent_client.csrf_token}
    return agent_client.client.post(path.format(id=visitor.id), headers=headers, **kwargs)


def _each_post(client, admin_client, visitor):
    """(who, path, send) for every POST, as the visitor and as the admin."""
    for path in VISITOR_POSTS:
        yield "visitor", path, lambda p=path, **kw: _visitor_post(client, visitor, p, **kw)
    for path in AGENT_POSTS:
        yield "agent", path, lambda p=path, **kw: _agent_post(admin_client, visitor, p, **kw)


def test_invalid_utf8_bodies_are_400(app, client, admin_client, visitor):
    before = stored_counts(app)
    for who, path, send in _each_post(client, admin_client, visitor):
        for raw in (b'{"name": "\xff\xfe"}', b'{"body": "\xc3\x28"}', b"\xfe\xff\x00{"):
            error = refused(send(data=raw, content_type=JSON), 400)
            assert error["code"] == "invalid_json", (who, path, raw)
    assert stored_counts(app) == before


def test_nul_bytes_in_the_body_or_any_text_field_are_refused(app, client, admin_client, visitor):
    before = stored_counts(app)
    for who, path, send in _each_post(client, admin_client, visitor):
        refused(send(data=b'{"name": "A\x00", "body": "b\x00"}', content_type=JSON), 400)
        for name, value in AGENT_POSTS[path].items():
            if isinstance(value, str):
                fields = {**AGENT_POSTS[path], name: value[:1] + "\x00" + value[1:]}
                assert refused(send(json=fields), 422)["field"] == name, (who, path, name)
    assert stored_counts(app) == before


def test_lone_surrogates_in_text_fields_are_422_not_500(app, client, admin_client, visitor):
    """JSON may spell "\\ud800"; no database driver can encode it (this was a 500)."""
    before = stored_counts(app)
    for who, path, send in _each_post(client, admin_client, visitor):
        for name, value in AGENT_POSTS[path].items():
            if name in ("name", "body", "email"):
                fields = {**AGENT_POSTS[path], name: "\ud800" + value}
                assert refused(send(json=fields), 422)["field"] == name, (who, path)
    assert stored_counts(app) == before


def test_a_1mb_body_is_413_in_the_json_shape(app, client, admin_client, visitor):
    before = stored_counts(app)
    big = b'{"body": "' + b"x" * (1024 * 1024) + b'"}'
    for who, path, send in _each_post(client, admin_client, visitor):
        error = refused(send(data=big, content_type=JSON), 413)
        assert error["code"] == "payload_too_large", (who, path)
    assert stored_counts(app) == before


def test_deeply_nested_json_is_refused_not_a_recursion_500(app, client, admin_client, visitor):
    before = stored_counts(app)
    for who, path, send in _each_post(client, admin_client, visitor):
        # 10,000 deep is over the 16 KiB limit; 5,000 deep fits in it and would overflow
        # the parser's stack (RecursionError, a 500 before the fix).
        assert refused(send(data="[" * 10_000 + "]" * 10_000, content_type=JSON), 413)
        deep = '{"name": ' + "[" * 5_000 + "]" * 5_000 + "}"
        error = refused(send(data=deep, content_type=JSON), 400)
        assert error["code"] == "invalid_json", (who, path)
    assert stored_counts(app) == before


def test_wrong_json_types_in_every_field_of_every_post_are_422(app, client, admin_client, visitor):
    before = stored_counts(app)
    for who, path, send in _each_post(client, admin_client, visitor):
        for name in AGENT_POSTS[path]:
            for wrong in WRONG[name]:
                fields = {**AGENT_POSTS[path], name: wrong}
                error = refused(send(json=fields), 422)
                assert error["field"] == name, (who, path, name, wrong)
        for body in ([], "x", 1, None, [AGENT_POSTS[path]]):
            answer = send(data=json.dumps(body), content_type=JSON)
            assert refused(answer, 400)["code"] == "invalid_json", (who, path, body)
        assert refused(send(data="x=1", content_type="text/plain"), 415)
    assert stored_counts(app) == before


def test_line_breaks_in_names_are_refused_and_never_reach_a_header(app, client):
    before = stored_counts(app)
    for name in ("Ada\r\nSet-Cookie: owned=1", "Ada\nX-Injected: 1", "Ada\rLocation: /x"):
        answer = client.post("/api/conversations", json={"name": name})
        assert refused(answer, 422)["field"] == "name"
        assert "owned" not in answer.headers.get("Set-Cookie", "")
        assert "X-Injected" not in answer.headers
    email = "ada@example.com\r\nBcc: everyone@example.com"
    assert refused(client.post("/api/conversations", json={"name": "Ada", "email": email}), 422)
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/conversations/..%2F..%2Fetc/messages"),
        ("POST", "/api/conversations/..%2F..%2Fetc/messages"),
        ("GET", "/api/conversations/../../etc/passwd"),
        ("GET", "/api/conversations/%2e%2e/messages"),
        ("GET", f"/api/conversations/{HUGE}"),
        ("POST", f"/api/conversations/{HUGE}/messages"),
        ("GET", "/api/conversations/2147483648/messages"),
        ("POST", "/api/conversations/0/read"),
        ("POST", "/api/conversations/-1/typing"),
        ("POST", "/api/conversations/1e3/assign"),
        ("POST", "/api/conversations/%00/close"),
        ("GET", "/api/conversations/" + "9" * 5000 + "/events"),
    ],
)
def test_ids_that_name_no_row_are_404(app, client, admin_client, visitor, method, path):
    """Never a database error on an id past INTEGER, and never the 405 werkzeug answers
    when a converter refuses an id and another method's rule shares the path."""
    before = stored_counts(app)
    body = {"body": "x", "seq": 0, "typing": True, "agent_id": None}
    for answer in (
        client.open(path, method=method, json=body, headers=visitor.headers),
        admin_client.client.open(
            path, method=method, json=body, headers={"X-CSRFToken": admin_client.csrf_token}
        ),
    ):
        assert refused(answer, 404)["code"] == "not_found", path
    assert stored_counts(app) == before


def test_numbers_past_the_database_in_the_query_or_headers_are_422(app, client, visitor):
    """Each of these was a 500: SQLite cannot bind them, Python will not int() 5,000 digits."""
    before = stored_counts(app)
    base = f"/api/conversations/{visitor.id}"
    for value in (str(HUGE), str(2**31), "9" * 5_000, "0" * 20 + "1" * 20):
        for query in (f"after={value}", f"limit={value}", f"wait={value}"):
            answer = client.get(f"{base}/messages?{query}", headers=visitor.headers)
            assert refused(answer, 422)["field"] == query.split("=")[0]
        headers = {**visitor.headers, "Last-Event-ID": value}
        assert refused(client.get(f"{base}/events", headers=headers), 422)
        assert refused(client.get(f"{base}/events?after={value}", headers=visitor.headers), 422)
    assert stored_counts(app) == before


def test_huge_ids_in_json_are_422(app, admin_client, visitor):
    before = stored_counts(app)
    for agent_id in (HUGE, 2**31, -(2**70)):
        answer = _agent_post(admin_client, visitor, "/api/conversations/{id}/assign", json={
            "agent_id": agent_id
        })  # fmt: skip
        assert refused(answer, 422)["field"] == "agent_id"
    assert stored_counts(app) == before


def test_ten_thousand_query_parameters_are_answered_quickly_with_a_4xx(
    app, client, admin_client, visitor
):
    before = stored_counts(app)
    junk = "&".join(f"p{i}=x" for i in range(10_000))
    repeated = "&".join("after=x" for _ in range(10_000))
    base = f"/api/conversations/{visitor.id}"
    assert refused(client.get(f"{base}/messages?{junk}&after=-1", headers=visitor.headers), 422)
    assert refused(client.get(f"{base}/messages?{repeated}", headers=visitor.headers), 422)
    assert refused(client.get(f"{base}?{junk}"), 401)  # no token among them
    assert refused(admin_client.get(f"/api/dashboard/snapshot?{junk}&wait=x"), 422)
    assert refused(client.post(f"/api/conversations?{junk}", json={"name": ""}), 422)
    assert stored_counts(app) == before


# -- the HTML forms ---------------------------------------------------------------------

FORM_POSTS = ["/dashboard/login", "/dashboard/logout", "/dashboard/agents"]


def test_json_bodies_to_the_forms_are_refused_not_500(app, admin_client, client):
    """Flask-WTF read a JSON body into the form: a list or a number broke sign-in (500)."""
    before = stored_counts(app)
    # path -> (anonymous, signed-in administrator): what any JSON body gets.
    expected = {
        # Invalid form (or, past 5 tries a minute, the rate limit); signed in: on to /dashboard.
        "/dashboard/login": ({400, 429}, {302, 429}),
        # Signed out only with the form's token; always on to the sign-in page.
        "/dashboard/logout": ({302}, {302}),
        "/dashboard/agents": ({302}, {400}),
    }
    for body in ('"abc"', "[1, 2]", "7", '{"email": [1], "password": {}}', "[" * 3_000):
        for path, (anonymous, signed_in) in expected.items():
            for who, allowed in ((client, anonymous), (admin_client.client, signed_in)):
                answer = who.post(path, data=body, content_type=JSON)
                assert answer.status_code in allowed, (path, body, answer.status_code)
    assert stored_counts(app) == before


def test_a_nul_in_the_sign_in_address_is_a_failed_sign_in(client, agent):
    """PostgreSQL refuses to compare a string holding NUL (this was a 500 there)."""
    token = _CSRF_INPUT.search(client.get("/dashboard/login").get_data(as_text=True)).group(1)
    for email in (agent.email + "\x00", "\x00", "a\x00@example.com"):
        form = {"email": email, "password": agent.password, "csrf_token": token}
        answer = client.post("/dashboard/login", data=form)
        assert answer.status_code == 401, email
        assert client.get("/dashboard").status_code == 302  # still signed out


def test_an_agent_id_past_integer_in_the_pages_is_404(admin_client):
    path = f"/dashboard/agents/{HUGE}/active"
    answer = admin_client.client.post(path, data={"csrf_token": admin_client.csrf_token})
    assert answer.status_code == 404

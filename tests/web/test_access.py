"""Who may call what: anonymous callers, visitors and agents on every agent endpoint."""

import pytest

from tests.conftest import stored_counts

# (method, path template, JSON body) of every endpoint only agents may use.
AGENT_ENDPOINTS = [
    ("GET", "/api/dashboard/snapshot", None),
    ("GET", "/api/dashboard/snapshot?wait=1&etag=x", None),
    ("GET", "/api/dashboard/events", None),
    ("GET", "/api/agents", None),
    ("POST", "/api/conversations/{id}/assign", {}),
    ("POST", "/api/conversations/{id}/close", None),
    ("POST", "/api/presence", {"active": True}),
]
PAGES = ["/dashboard", "/dashboard/agents", "/dashboard/office-hours"]


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
def test_anonymous_callers_get_401_on_every_agent_endpoint(client, visitor, method, path, body):
    answer = client.open(path.format(id=visitor.id), method=method, json=body)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "not_signed_in"


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
def test_visitor_tokens_get_403_on_every_agent_endpoint(app, client, visitor, method, path, body):
    before = stored_counts(app)
    answer = client.open(
        path.format(id=visitor.id), method=method, json=body, headers=visitor.headers
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "agents_only"
    query = client.open(
        path.format(id=visitor.id) + ("&" if "?" in path else "?") + f"token={visitor.token}",
        method=method,
        json=body,
    )
    assert query.status_code == 403
    assert stored_counts(app) == before


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_of_agent_pages_are_sent_to_sign_in(client, page):
    answer = client.get(page)
    assert answer.status_code == 302
    assert answer.location.startswith(f"/dashboard/login?next={page}")


# (method, path template, JSON body) of every endpoint a visitor may use on their
# conversation; {token} marks the URLs where EventSource and long-poll carry it.
VISITOR_ENDPOINTS = {
    "conversation": ("GET", "/api/conversations/{id}", None),
    "history": ("GET", "/api/conversations/{id}/messages?after=0", None),
    "long-poll": ("GET", "/api/conversations/{id}/messages?after=0&wait=5&token={token}", None),
    "stream": ("GET", "/api/conversations/{id}/events?token={token}", None),
    "post": ("POST", "/api/conversations/{id}/messages", {"body": "hi", "client_id": "c-1"}),
    "typing": ("POST", "/api/conversations/{id}/typing", {"typing": True}),
    "read mark": ("POST", "/api/conversations/{id}/read", {"seq": 0}),
    "marks": ("POST", "/api/conversations/{id}/marks", {"delivered": 0, "seen": 0}),
}
FORGED_TOKEN = "A" * 43


@pytest.mark.parametrize(
    ("method", "path", "body"), VISITOR_ENDPOINTS.values(), ids=VISITOR_ENDPOINTS.keys()
)
def test_a_wrong_token_cannot_tell_a_conversation_from_a_missing_one(
    app, client, start_visitor, method, path, body
):
    ada, eve = start_visitor("Ada"), start_visitor("Eve")
    missing = eve.id + 1000
    before = stored_counts(app)

    def ask(conversation_id, token):
        url = path.format(id=conversation_id, token=token)
        headers = {} if "{token}" in path else {"Authorization": f"Bearer {token}"}
        answer = client.open(url, method=method, json=body, headers=headers)
        return answer.status_code, answer.get_json()

    # Another conversation's token and a made-up one, on Ada's conversation and on one
    # that does not exist (with a real token too): the same answer, every time.
    answers = [
        ask(ada.id, eve.token),
        ask(ada.id, FORGED_TOKEN),
        ask(missing, eve.token),
        ask(missing, FORGED_TOKEN),
    ]
    expected = (
        404,
        {"error": {"code": "not_found", "message": "No such conversation.", "field": None}},
    )
    assert answers == [expected] * 4
    assert stored_counts(app) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/conversations/{id}/messages", {"body": "hello", "client_id": "c-1"}),
        ("/api/conversations/{id}/assign", {}),
        ("/api/conversations/{id}/close", {}),
        ("/api/conversations/{id}/read", {"seq": 0}),
        ("/api/conversations/{id}/marks", {"seen": 0}),
        ("/api/conversations/{id}/typing", {"typing": True}),
        ("/api/presence", {"active": True}),
    ],
)
def test_an_agents_unsafe_request_without_the_csrf_token_is_refused(
    app, visitor, agent, sign_in, path, body
):
    maria = sign_in(agent)
    before = stored_counts(app)
    refused = maria.client.post(path.format(id=visitor.id), json=body)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    wrong = maria.client.post(
        path.format(id=visitor.id), json=body, headers={"X-CSRFToken": "forged"}
    )
    assert wrong.status_code == 403
    assert stored_counts(app) == before
    assert maria.post(path.format(id=visitor.id), json=body).status_code in (200, 201, 204)


def test_signing_out_needs_the_csrf_token(agent, sign_in):
    maria = sign_in(agent)
    maria.client.post("/dashboard/logout")  # no token: a cross-site form cannot sign us out
    assert maria.get("/api/dashboard/snapshot").status_code == 200
    maria.client.post("/dashboard/logout", data={"csrf_token": maria.csrf_token})
    assert maria.get("/api/dashboard/snapshot").status_code == 401


def test_agents_cannot_manage_or_list_agents(agent, admin, sign_in):
    maria = sign_in(agent)
    assert maria.get("/dashboard/agents").status_code == 403
    assert maria.get("/api/agents").status_code == 403
    assert sign_in(admin).get("/api/agents").status_code == 200
    answer = maria.client.post(
        f"/dashboard/agents/{agent.id}/active", data={"csrf_token": maria.csrf_token}
    )
    assert answer.status_code == 403

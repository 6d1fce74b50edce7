"""GET /api/search: agents only, dates checked (400), results paged."""

import pytest

from devtone.domain import conversations, search
from devtone.domain.visitors import Visitor
from tests.conftest import ON_SQLITE

pytestmark = ON_SQLITE


def _write(app, start_visitor, body, count=1):
    for _ in range(count):
        session = start_visitor()
        with app.app_context():
            conversations.post_message(session.id, Visitor(session.token), body)


def test_an_agent_searches_and_pages_through_the_results(app, start_visitor, agent, sign_in):
    _write(app, start_visitor, "Minha encomenda não chegou", count=search.PAGE_SIZE + 1)
    maria = sign_in(agent)
    first = maria.get("/api/search?q=encomenda")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert len(body["results"]) == search.PAGE_SIZE
    assert body["next_page"] == 2
    second = maria.get("/api/search?q=encomenda&page=2").get_json()
    assert len(second["results"]) == 1
    assert second["next_page"] is None
    hit = second["results"][0]
    assert hit["message"]["body"] == "Minha encomenda não chegou"
    assert {"text": "encomenda", "hit": True} in hit["snippet"]


def test_visitors_and_strangers_may_not_search(app, client, visitor):
    assert client.get("/api/search?q=x").status_code == 401
    assert client.get("/api/search?q=x", headers=visitor.headers).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "from=ontem",
        "to=2026-02-30",
        "from=2026-03-10T10:00",
        "to=9999-12-31",  # its end, the next day, is past the last date there is
        "from=0001-01-01T00:00:00%2B01:00",  # before the first moment there is, in UTC
    ],
)
def test_a_bad_date_is_400(app, agent, sign_in, query):
    answer = sign_in(agent).get(f"/api/search?q=x&{query}")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_date"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "agent_id=-1", "status=open"])
def test_a_bad_page_agent_or_status_is_422(app, agent, sign_in, query):
    assert sign_in(agent).get(f"/api/search?{query}").status_code == 422

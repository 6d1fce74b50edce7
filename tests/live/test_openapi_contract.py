"""schemathesis against a live server: every operation of the served OpenAPI document, once
as a visitor, once as a signed-in agent and once as an API token holder of each scope (the
operations that list the apiToken scheme), must answer as documented and never 5xx."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtone.config import REQUEST_FIELD_SIZE_LIMIT, REQUEST_FIELDS_LIMIT, REQUEST_LINE_LIMIT
from devtone.domain import api_tokens
from tests.servers import LiveServer

pytestmark = pytest.mark.live

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CONFIG = {
    "generation": {
        # Valid and invalid input both; a few examples per operation keep the whole module
        # under a minute and a half on two cores (every operation, in each of RUNS).
        "mode": "all",
        "max-examples": 8,
        # Our credentials are the ones sent (see `caller`); anonymous and forged ones
        # are tests/blueprints/test_access.py's business.
        "with-security-parameters": False,
        # Nothing written into the working tree (.hypothesis/).
        "database": "none",
    },
    "phases": {
        # Boundary values of every parameter: where the overflowing ids were found.
        "coverage": {"enabled": True},
        "stateful": {"enabled": False},
    },
    # Streams never end by themselves: read `hello` and one more event, then hang up (a
    # ping comes within a heartbeat, 0.5 s here), and never wait longer than 5 s.
    "max-stream-events": 2,
    "request-timeout": 5,
}

#: The longest long-poll `wait` a case may keep (see `bound_waits`).
WAIT_CAP = 1

_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Caller:
    """What every request of one run carries, and the conversation it may open."""

    role: str
    conversation_id: int
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def server(live_server) -> LiveServer:
    """One gunicorn + gevent devtone on the test's database."""
    return live_server()


#: An integration holding an API token of one scope (docs/api.md).
TOKEN_CALLERS = ["token:conversations:read", "token:messages:write", "token:agents:manage"]

#: The runs, as (store, caller). The visitor and the agent run on both stores: between
#: them they reach every operation, through SQLite and the in-process broker and through
#: PostgreSQL and Redis. What a token's scope opens is decided by one map before any view
#: runs (web/token_access.py), whatever the store, and tests/web/test_api_tokens.py takes
#: the tokens themselves through both stores: the three token runs take the zero-setup
#: store only (seven runs of half a minute or so, not ten).
RUNS = [
    *((store, role) for store in ("sqlite", "postgresql") for role in ("visitor", "agent")),
    *(("sqlite", token) for token in TOKEN_CALLERS),
]


@pytest.fixture
def caller(request: pytest.FixtureRequest, app, server: LiveServer, make_agent) -> Caller:
    """A visitor with the token of a conversation started through the API, an
    administrator signed in through the sign-in form (cookie + CSRF header), or an API
    token holder of one scope."""
    started = requests.post(f"{server.url}/api/conversations", json={"name": "Fuzz"}, timeout=5)
    assert started.status_code == 201, started.text
    conversation_id = started.json()["conversation"]["id"]
    if request.param == "visitor":
        token = started.json()["token"]
        return Caller("visitor", conversation_id, headers={"Authorization": f"Bearer {token}"})
    if request.param in TOKEN_CALLERS:
        scope = request.param.removeprefix("token:")
        boss = make_agent("Token Admin", role="admin")
        make_agent("Maria")
        with app.app_context():
            _, token = api_tokens.create_token(boss.identity, f"Fuzz {scope}", [scope])
        return Caller("token", conversation_id, headers={"Authorization": f"Bearer {token}"})
    # An administrator reaches every branch an agent does, plus /api/agents and assigning
    # to someone else; a colleague gives agent_id something real to point at.
    admin = make_agent("Ada Admin", role="admin")
    make_agent("Maria")
    with requests.Session() as session:
        page = session.get(f"{server.url}/dashboard/login", timeout=5)
        csrf_token = _CSRF_INPUT.search(page.text).group(1)
        form = {"email": admin.email, "password": admin.password, "csrf_token": csrf_token}
        signed_in = session.post(
            f"{server.url}/dashboard/login", data=form, allow_redirects=False, timeout=5
        )
        assert signed_in.status_code == 302, signed_in.text
        cookies = session.cookies.get_dict()
    return Caller("agent", conversation_id, headers={"X-CSRFToken": csrf_token}, cookies=cookies)


@pytest.fixture
def contract(request: pytest.FixtureRequest, server: LiveServer) -> schemathesis.BaseSchema:
    """The OpenAPI document as the live server serves it."""
    # schemathesis 4.32 renames the test node per operation through `_nodeid`, which
    # pytest 9.2 no longer has (it is `_id` there): give it the attribute it reads.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    config = schemathesis.Config.from_dict(CONFIG)
    return schemathesis.openapi.from_url(f"{server.url}/api/openapi.yaml", config=config)


schema = schemathesis.pytest.from_fixture("contract")


@schema.parametrize()
# Named here, not only in the signature: schemathesis hands fixtures over by name at run
# time, so a parametrized one must be known to pytest when it collects the test. RUNS
# pairs each caller with its stores.
@pytest.mark.usefixtures("caller")
@pytest.mark.parametrize(("database_url", "caller"), RUNS, indirect=True)
def test_every_operation_answers_as_documented_and_never_5xx(
    case: schemathesis.Case, server: LiveServer, caller: Caller
) -> None:
    if caller.role == "token" and not opens_to_tokens(case):
        return  # refused before any view (403 token_not_allowed): tests/web/test_api_tokens.py
    aim_at_own_conversation(case, caller)
    bound_waits(case)
    answer = case.call(base_url=server.url, headers=caller.headers, cookies=caller.cookies)
    if answer.status_code in (414, 431) and head_over_limits(answer.request):
        return  # the server's own refusal, before devtone: see the document's description
    case.validate_response(
        answer,
        CHECKS,
        headers=caller.headers,
        transport_kwargs={"base_url": server.url, "headers": dict(caller.headers)},
    )


def opens_to_tokens(case: schemathesis.Case) -> bool:
    """Whether the operation lists the apiToken security scheme (some scope opens it)."""
    security = case.operation.definition.raw.get("security") or []
    return any("apiToken" in requirement for requirement in security)


def head_over_limits(request: requests.PreparedRequest) -> bool:
    """Whether the request's head is past gunicorn.conf.py's limits (drawn query
    parameters can make a long request line)."""
    line = f"{request.method} {request.path_url} HTTP/1.1"
    fields = [f"{name}: {value}\r\n" for name, value in request.headers.items()]
    return (
        len(line) > REQUEST_LINE_LIMIT
        or len(fields) + 1 > REQUEST_FIELDS_LIMIT  # and Host
        or any(len(field) > REQUEST_FIELD_SIZE_LIMIT for field in fields)
    )


def aim_at_own_conversation(case: schemathesis.Case, caller: Caller) -> None:
    """Three in four drawn conversation ids become the caller's own: a random id is a 404
    almost always, and the answers past it (200, 409, 422 …) are what is worth checking."""
    drawn = (case.path_parameters or {}).get("conversation_id")
    if isinstance(drawn, int) and drawn % 4:
        case.path_parameters["conversation_id"] = caller.conversation_id


def bound_waits(case: schemathesis.Case) -> None:
    """Cap a valid long-poll `wait` (0–30 s, and the schema says so) at WAIT_CAP seconds,
    and the doctor's `seconds` alike.

    A long-poll with nothing new answers after its whole `wait`: drawn up to 30 s per
    case, the run would take many minutes. The answer after 1 s has the same shape as
    after 30; invalid values (31, -1, "abc") are kept, they are answered at once with 422.
    """
    for name in ("wait", "seconds"):  # long-poll's, and the doctor's wait
        value = (case.query or {}).get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)  # the coverage phase sends some as text
        if isinstance(value, int) and value > WAIT_CAP:
            case.query[name] = WAIT_CAP

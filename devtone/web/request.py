"""Reading requests at the edge: JSON bodies, numbers in the query, and who is calling."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from devtone import errors
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.domain.conversations import Caller
from devtone.domain.fields import ID_MAX
from devtone.domain.visitors import Visitor
from devtone.extensions import csrf
from devtone.web.token_access import calling_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The longest `wait` (seconds) a long-poll request may ask for.
WAIT_MAX = 30


def json_object() -> dict[str, Any]:
    """The request's JSON object, or the matching 413/415/400 error."""
    if not request.is_json:
        raise errors.UnsupportedMediaType("Send the body as application/json.")
    try:
        data = request.get_json(silent=True)  # 413 is raised by Werkzeug before this parses
    except RecursionError:
        # `silent` covers ValueError only; a few thousand nested [ fit in 16 KiB.
        raise errors.BadRequest("The JSON is nested too deeply.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise errors.BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


class IdConverter(IntegerConverter):
    """`<id:…>` in a URL: a row id from 1 to ID_MAX; any other number is 404, rather than
    a query the database cannot run."""

    def to_python(self, value: str) -> int:
        """The id, or NotFound (not werkzeug's ValidationError, which it answers with 405
        when another method's rule shares the path)."""
        if len(value) > len(str(ID_MAX)) or not 1 <= int(value) <= ID_MAX:
            raise NotFound()
        return int(value)


def caller(query_token: bool = False) -> Caller:
    """The API token (checked by token_access.py), else the visitor named by the bearer
    token (or `?token=` on stream/long-poll GETs), else the signed-in agent; an agent's
    unsafe request must carry the CSRF token."""
    token = calling_token()
    if token is not None:
        return token
    header = request.headers.get("Authorization", "")
    if header:
        return _visitor(header)
    if query_token and request.args.get("token"):
        return Visitor(request.args["token"].strip())
    if current_user.is_authenticated:
        return signed_in_agent()
    raise errors.Unauthorized("A visitor token is required.", code="missing_token")


def agent() -> AgentIdentity:
    """The signed-in agent; visitors (a bearer token) are refused, anonymous callers asked
    to sign in."""
    if request.headers.get("Authorization") or request.args.get("token"):
        raise errors.Forbidden("Only agents may do this.", code="agents_only")
    if not current_user.is_authenticated:
        raise errors.Unauthorized("Sign in as an agent first.", code="not_signed_in")
    return signed_in_agent()


def team_member() -> AgentIdentity | TokenIdentity:
    """The API token (its scope checked by token_access.py), else the signed-in agent, as
    `agent()` finds them: for the team's reading endpoints (list, search)."""
    token = calling_token()
    return token if token is not None else agent()


def require_scope(scope: str) -> AgentIdentity | TokenIdentity:
    """The caller of an endpoint that signed-in administrators and API tokens with `scope`
    may use (the agent list; a visitor's export or erasure): the token, if it has the
    scope, else the signed-in admin; 403 otherwise.

    The endpoint must also be in token_access.SCOPE_OF, which refuses every token before
    the view runs on an endpoint it does not list.
    """
    token = calling_token()
    if token is not None:
        token.require(scope)
        return token
    who = agent()
    if not who.is_admin:
        raise errors.Forbidden("Only an administrator can do this.", code="admins_only")
    return who


def signed_in_agent() -> AgentIdentity:
    """The agent of the session cookie, after the CSRF check an unsafe request needs."""
    if request.method not in SAFE_METHODS:
        # Flask-WTF looks for its token among the form's field names: a multipart part
        # without a name gives None, on which it fails (a 500). Such a body is malformed.
        if any(not isinstance(name, str) for name in request.form):
            raise errors.BadRequest("A part of the form has no name.", code="invalid_form")
        csrf.protect()  # raises CSRFError, rendered as 403 under /api
    return current_user._get_current_object()


def whole_number(name: str, raw: str | None, default: int, low: int = 0, high: int = ID_MAX) -> int:
    """A query parameter as an int within bounds, or Invalid naming it.

    Numbers beyond ID_MAX are refused too: no seq or id is that large, and SQLite cannot
    even bind one in a query.
    """
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise errors.Invalid("{field} must be a whole number ≥ {low}.", field=name, low=low)
    # Too many digits to be in bounds: never int() them (Python refuses 4,300 and more).
    value = int(raw) if len(raw.lstrip("0")) <= len(str(high)) else high + 1
    if value < low or value > high:
        raise errors.Invalid(
            "{field} must be between {low} and {high}.", field=name, low=low, high=high
        )
    return value


def _visitor(header: str) -> Visitor:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise errors.Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
    if not token.strip():
        raise errors.Unauthorized("A visitor token is required.", code="missing_token")
    return Visitor(token.strip())

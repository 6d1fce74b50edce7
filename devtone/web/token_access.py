"""API tokens at the edge: who a `Bearer dtk_…` call is, what it may call, how often, and
its line in the audit log.

One `before_request` authenticates the token (401), counts the call against the token's
rate limit (429) and checks the endpoint's scope in `SCOPE_OF` (403), before any view runs;
one `after_request` writes the audit entry with the answer's status. Views then ask
`web/request.py` for their caller as before and get the token's identity. A token is read
from the Authorization header only: never a cookie, never a query string (a URL ends up in
logs and in browser history).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from devtone.domain import api_tokens, audit
from devtone.domain.api_tokens import TokenIdentity
from devtone.errors import Forbidden
from devtone.web import limits

#: The one map of what a token may call: endpoint → the scope it needs. An endpoint not
#: here refuses every token (403 token_not_allowed), whatever its scopes. The endpoints a
#: page uses and an integration needs: reading conversations, their messages and files,
#: the three tiers, the dashboard's list and search; posting messages (as a bot); the
#: agent list. A view that admins or tokens may call (e.g. a visitor export) is added here
#: with its scope and takes its caller from `request.require_scope(scope)`.
SCOPE_OF = {
    "api_conversations.get_conversation": "conversations:read",
    "api_conversations.list_messages": "conversations:read",
    "api_conversations.conversation_events": "conversations:read",
    "api_attachments.attachment_file": "conversations:read",
    "dashboard.snapshot": "conversations:read",
    "dashboard.events": "conversations:read",
    "search.search": "conversations:read",
    "api_conversations.post_message": "messages:write",
    "dashboard.list_agents": "agents:manage",
    "api_visitors.export": "agents:manage",
    "api_visitors.erase": "agents:manage",
}


def calling_token() -> TokenIdentity | None:
    """The API token this request authenticated with, if any."""
    return g.get("api_token")


def bearer_api_token() -> str | None:
    """The request's bearer credential if it claims to be an API token (`dtk_…`)."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and api_tokens.is_api_token(credential):
        return credential
    return None


def init_app(app: Flask) -> None:
    """Check every token call before its view, and audit it after."""

    @app.before_request
    def authenticate_token() -> None:
        # Pages and their forms are the cookie's; a token only ever speaks to the API.
        credential = bearer_api_token() if request.path.startswith("/api/") else None
        if credential is None:
            return
        token = api_tokens.authenticate(credential)
        g.api_token = token  # from here on the call is the token's, and audited
        limits.count_token_call(token.id)
        scope = SCOPE_OF.get(request.endpoint or "")
        if scope is None:
            raise Forbidden("API tokens cannot call this endpoint.", code="token_not_allowed")
        token.require(scope)

    @app.after_request
    def audit_token_call(response: Response) -> Response:
        token = calling_token()
        if token is not None:
            # The path, never the query string: nothing a caller sent ends up in the log.
            target = f"{request.method} {request.path}"
            audit.record(token.actor, "api.call", target, {"status": response.status_code})
        return response

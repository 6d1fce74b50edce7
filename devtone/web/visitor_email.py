"""E-mail to visitors at the edge: reopening a conversation from an e-mailed link, asking
for its transcript, and the unsubscribe page (and one-click List-Unsubscribe)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from devtone.domain import conversation_links, reply_mail
from devtone.errors import DevtoneError
from devtone.web import limits
from devtone.web.request import caller, json_object

bp = Blueprint("visitor_email", __name__)


@bp.post("/api/conversations/reopen")
@limits.limit_conversation_starts
def reopen() -> dict[str, Any]:
    """Trade an e-mailed link's token (`link`) for the conversation and a visitor token."""
    conversation, token = conversation_links.reopen(json_object().get("link"))
    return {"conversation": conversation, "token": token}


@bp.post("/api/conversations/<id:conversation_id>/transcript")
@limits.limit_transcripts
def transcript(conversation_id: int) -> tuple[dict[str, Any], int]:
    """E-mail the whole conversation to the address its visitor gave (sent shortly)."""
    return {"email": reply_mail.queue_transcript(conversation_id, caller())}, 202


@bp.get("/chat/unsubscribe")
def unsubscribe_page() -> tuple[str, int, dict[str, str]]:
    """Ask before stopping the e-mails: a mail scanner that opens links changes nothing.

    The page's address holds the token: its stylesheet's request must not carry it on as a
    Referer (a proxy's access log would keep it)."""
    page = render_template("unsubscribe.html", token=request.args.get("token", ""), done=False)
    return page, 200, {"Referrer-Policy": "no-referrer"}


@bp.post("/chat/unsubscribe")
def unsubscribe() -> tuple[str, int]:
    """Stop the conversation's e-mails: from the page's button (the form's token), or a
    mail program's one-click List-Unsubscribe (the query's)."""
    token = request.form.get("token") or request.args.get("token")
    try:
        conversation_links.stop_emails(token)
    except DevtoneError:
        return render_template("unsubscribe.html", token="", done=False, invalid=True), 400
    return render_template("unsubscribe.html", token="", done=True), 200

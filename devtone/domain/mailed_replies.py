"""A visitor's reply to an e-mail, back into the conversation as their message.

The reply address names the conversation and is signed (conversation_links), so an
unknown or forged address is refused before anything is read. What the visitor wrote is
what comes before the quoted history (found by quotequail, which knows the "On … wrote:"
lines of many languages and mail programs) and before their signature; the e-mail's
Message-ID is the message's client_id, so a mail server that delivers it twice posts it
once. An e-mail a program sent (an out-of-office reply, a delivery report) is taken and
not posted: the visitor did not write it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import quotequail

from devtone.domain import conversation_links, conversations, fields
from devtone.domain.visitors import MailedVisitor
from devtone.errors import Invalid, NotFound

# A signature starts at "-- " (RFC 3676's delimiter, often sent without its space) or at
# a mail program's own footer.
_SIGNATURE = re.compile(
    r"^(--\s*"
    r"|(sent|enviado) (from|do|de) (my|meu|minha) .+"
    r"|get outlook for .+"
    r"|obtenha o outlook para .+)$",
    re.IGNORECASE,
)
# Lines a mail program quotes with, when no introduction line came before them.
_QUOTED = re.compile(r"^\s*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# `Precedence` values of mail no person typed: list and bulk mail, vacation responders'.
_PRECEDENCE_AUTOMATIC = {"bulk", "junk", "list", "auto_reply"}


def automatic(header: Callable[[str], str | None]) -> str | None:
    """The header that shows a program sent this e-mail, not the visitor, or None.

    `header(name)` reads one header. RFC 3834's `Auto-Submitted` (anything but "no"), the
    `X-Autoreply` / `X-Autorespond` of vacation responders that predate it, a
    `Precedence` of bulk or auto_reply, and a delivery or read report's
    `multipart/report`: posting those would show an out-of-office notice or a bounce as
    the visitor's words, and could answer a responder with another e-mail.
    """
    submitted = (header("Auto-Submitted") or "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return "Auto-Submitted"
    for name in ("X-Autoreply", "X-Autorespond"):
        if (header(name) or "").strip():
            return name
    if (header("Precedence") or "").strip().lower() in _PRECEDENCE_AUTOMATIC:
        return "Precedence"
    if (header("Content-Type") or "").strip().lower().startswith("multipart/report"):
        return "Content-Type"
    return None


def fresh_text(text: str) -> str:
    """What the visitor wrote in a plain-text reply: without the quoted history, the
    signature, control characters and the blank lines around; at most BODY_MAX
    characters (a longer reply is cut, with "…")."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    shown = quotequail.quote(text, quote_intro_line=True)[0][1]
    lines: list[str] = []
    for line in shown.split("\n"):
        if _SIGNATURE.match(line.strip()) or _QUOTED.match(line):
            break
        lines.append(line.rstrip())
    body = "\n".join(lines).strip()
    if len(body) > fields.BODY_MAX:
        body = body[: fields.BODY_MAX - 1].rstrip() + "…"
    return body


def fresh_html(markup: str) -> str:
    """The same, from an HTML-only reply (the quoted part found in the markup)."""
    shown = quotequail.quote_html(markup, quote_intro_line=True)[0][1]
    # Whatever a mail program put in a <blockquote> is quoted, introduced or not.
    shown = re.split(r"(?i)<blockquote\b", shown, maxsplit=1)[0]
    shown = re.sub(r"(?is)<(style|script|head|title)\b.*?</\1\s*>", "", shown)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>", "\n", shown)
    text = re.sub(r"<[^>]*>", "", text)
    return fresh_text(html.unescape(text).replace("\xa0", " "))


def post_reply(
    address: str, mailbox: str, text: str, message_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Post `text` (already the fresh part) as the visitor's message in the conversation
    that reply `address` names; return it and whether it is new (not a repeat of the same
    e-mail). NotFound for an address devtone did not make for `mailbox`, Invalid for a
    reply with nothing of its own."""
    conversation_id = conversation_links.conversation_of_reply(address, mailbox)
    if not text:
        raise Invalid("The reply holds nothing but quoted text.", field="body", code="blank")
    client_id = None
    if message_id:
        client_id = "mail-" + hashlib.sha256(message_id.strip().encode()).hexdigest()[:40]
    return conversations.post_message(
        conversation_id, MailedVisitor(conversation_id), text, client_id
    )


def post_delivered(
    recipients: list[str],
    mailbox: str,
    text: str,
    markup: str,
    message_id: str | None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any] | None, bool]:
    """Post a reply a mail provider delivered (already parsed): in the conversation of the
    first of `recipients` that is a reply address devtone made for `mailbox`, its fresh
    text (from `text`, else the HTML `markup`). NotFound when none of them is one; (None,
    False) when its `headers` (lower-case names) show a program sent it (`automatic`)."""
    for recipient in recipients:
        try:
            conversation_links.conversation_of_reply(recipient, mailbox)
        except NotFound:
            continue
        if automatic(lambda name: (headers or {}).get(name.lower())):
            return None, False
        fresh = fresh_text(text) if text.strip() else fresh_html(markup) if markup.strip() else ""
        return post_reply(recipient, mailbox, fresh, message_id)
    raise NotFound("No conversation has this reply address.", code="unknown_address")


def reply_text(message: EmailMessage) -> str:
    """The fresh part of a parsed e-mail (policy.default): its plain-text body, else its
    HTML one; "" when it has neither."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        content = body.get_payload(decode=True).decode("utf-8", "replace")
    if body.get_content_subtype() == "html":
        return fresh_html(content)
    return fresh_text(content)

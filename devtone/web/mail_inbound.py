"""POST /api/mail/inbound: visitors' e-mailed replies, as the common mail providers post
them (for those who receive mail at a provider rather than with `flask mail-in`).

Three shapes are read: JSON like Postmark's inbound webhook (`OriginalRecipient`/`To`,
`TextBody`, `HtmlBody`, `MessageID`), and forms like Mailgun's routes (`recipient`,
`body-plain`, `body-html`, `Message-Id`) and SendGrid's Inbound Parse (`to` or
`envelope`, `text`, `html`, `headers`). The hook is off (404) unless
DEVTONE_MAIL_INBOUND_TOKEN is set; the provider sends it as `?token=` in the hook's URL
(access logs redact it) or as the password of HTTP Basic auth. An e-mail whose headers
show a program sent it (an out-of-office reply, a bounce) is answered 202 and not posted:
a 2xx, so the provider does not post it again.
"""

from __future__ import annotations

import hmac
import json
from email import message_from_string, policy
from email.utils import getaddresses
from typing import Any

from flask import Blueprint, current_app, request

from devtone import errors, visitor_mail
from devtone.domain import mailed_replies

bp = Blueprint("mail_inbound", __name__, url_prefix="/api/mail")

#: The largest post taken (bytes): a reply with attachments still comes, its text is kept.
SIZE_LIMIT = 10 * 1024 * 1024


@bp.post("/inbound")
def inbound() -> tuple[dict[str, Any], int]:
    """Post the delivered reply as the visitor's message in its conversation."""
    _check_token()
    mailbox = visitor_mail.reply_mailbox(current_app)
    if mailbox is None:
        raise errors.NotFound("The inbound mail hook is off.", code="not_found")
    request.max_content_length = SIZE_LIMIT
    request.max_form_memory_size = SIZE_LIMIT
    recipients, text, html, message_id, headers = _delivered()
    message, created = mailed_replies.post_delivered(
        recipients, mailbox, text, html, message_id, headers
    )
    if message is None:
        return {"ignored": "automatic_email"}, 202
    return {"message": message}, 201 if created else 200


def _check_token() -> None:
    expected = current_app.config["MAIL_INBOUND_TOKEN"]
    if not expected:
        raise errors.NotFound("The inbound mail hook is off.", code="not_found")
    given = request.args.get("token") or (
        request.authorization.password or "" if request.authorization else ""
    )
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise errors.Unauthorized("Wrong inbound mail token.", code="invalid_token")


def _delivered() -> tuple[list[str], str, str, str | None, dict[str, str]]:
    """(recipients, text, html, Message-ID, headers by lower-case name) from whichever
    shape was posted."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise errors.BadRequest("The body must be a JSON object.", code="invalid_json")
        to = [data.get("OriginalRecipient"), data.get("To")]
        headers = {
            header["Name"].lower(): header.get("Value")
            for header in _list(data.get("Headers"))
            if isinstance(header, dict) and isinstance(header.get("Name"), str)
        }
        message_id = data.get("MessageID") or headers.get("message-id")
        return (
            _addresses(to),
            _text(data.get("TextBody")),
            _text(data.get("HtmlBody")),
            _id(message_id),
            {name: value for name, value in headers.items() if isinstance(value, str)},
        )
    form = request.form
    to = [form.get("recipient"), form.get("to")]
    envelope = _json_object(form.get("envelope"))
    to[:0] = [address for address in _list(envelope.get("to")) if isinstance(address, str)]
    headers = message_from_string(form.get("headers", ""), policy=policy.compat32)
    message_id = form.get("Message-Id") or headers.get("Message-ID")
    text = form.get("body-plain") or form.get("text") or ""
    html = form.get("body-html") or form.get("html") or ""
    # SendGrid's raw header block, or Mailgun's `message-headers`: [[name, value], …].
    named = {name.lower(): str(value) for name, value in headers.items()}
    for pair in _json_list(form.get("message-headers")):
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
            named.setdefault(pair[0].lower(), pair[1])
    return _addresses(to), text, html, _id(message_id), named


def _addresses(values: list[object]) -> list[str]:
    fields = [value for value in values if isinstance(value, str)]
    return [address for _, address in getaddresses(fields) if "@" in address]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _list(value: object) -> list:
    return (
        [item for item in value if isinstance(item, dict | str)] if isinstance(value, list) else []
    )


def _json_list(raw: str | None) -> list:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _json_object(raw: str | None) -> dict:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

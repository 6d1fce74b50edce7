"""What people may write: names, message bodies, e-mail addresses, client ids.

Each `clean_*` returns the normalised value or raises `Invalid` naming the field.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from devtone.errors import Invalid

NAME_MAX = 80
BODY_MAX = 4000
#: The largest id or seq the database's INTEGER columns hold: a bigger one names nothing
#: (and SQLite cannot even bind it).
ID_MAX = 2**31 - 1
CLIENT_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Control characters other than tab and line breaks have no place in chat text, and
# PostgreSQL refuses NUL outright. Lone surrogates (JSON "\ud800") are not text at all:
# no UTF-8 encoder, so no database driver, can store them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
#: What also breaks a line, in a name only: a name goes into e-mail headers (To:), where
#: NEL and the Unicode line and paragraph separators are line breaks too.
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


def is_blank(text: str) -> bool:
    """Whitespace and invisible format characters (zero-width space …) only."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def clean_body(body: object) -> str:
    """A message body: text, not blank, at most BODY_MAX characters, no control characters."""
    if not isinstance(body, str):
        raise Invalid("The message must be text.", field="body", code="required")
    if is_blank(body):
        raise Invalid("The message is empty.", field="body", code="blank")
    body = body.strip()
    if len(body) > BODY_MAX:
        raise Invalid(
            "The message is longer than {count} characters.",
            field="body",
            code="too_long",
            count=BODY_MAX,
        )
    if _CONTROL.search(body):
        raise Invalid(
            "The message contains control characters.",
            field="body",
            code="invalid_text",
        )
    return body


def clean_name(name: object, field: str = "name") -> str:
    """A person's display name: one line of text, not blank, at most NAME_MAX characters."""
    if not isinstance(name, str) or is_blank(name):
        raise Invalid("Please tell us your name.", field=field, code="blank")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise Invalid(
            "The name is longer than {count} characters.",
            field=field,
            code="too_long",
            count=NAME_MAX,
        )
    if _CONTROL.search(name) or _LINE_BREAKS.search(name):
        raise Invalid("The name contains control characters.", field=field, code="invalid_text")
    return name


def clean_email(email: object, required: bool = False) -> str | None:
    """An e-mail address, normalised; None when optional and empty."""
    if email is None or (isinstance(email, str) and not email.strip()):
        if required:
            raise Invalid("An e-mail address is required.", field="email", code="blank")
        return None
    if not isinstance(email, str):
        raise Invalid("The e-mail address must be text.", field="email", code="invalid_email")
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        # email-validator's reasons are English only: one message a page can translate.
        raise Invalid(
            "This e-mail address is not valid.", field="email", code="invalid_email"
        ) from None


def clean_client_id(client_id: object) -> str | None:
    """The poster's idempotency key (a UUID fits), or None."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID_SHAPE.fullmatch(client_id):
        raise Invalid(
            "client_id must be 1 to 64 letters, digits, '-' or '_' (a UUID fits).",
            field="client_id",
            code="invalid_client_id",
        )
    return client_id


def clean_seq(seq: object, field: str = "seq") -> int:
    """A log position: a whole number from 0 to ID_MAX (JSON booleans are not numbers here)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= ID_MAX:
        raise Invalid("{field} must be a whole number from 0 to {high}.", field=field, high=ID_MAX)
    return seq


def clean_id(value: object, field: str) -> int:
    """A row's id from JSON: a whole number from 1 to ID_MAX (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise Invalid("{field} must be a whole number from 1 to {high}.", field=field, high=ID_MAX)
    return value


def is_storable(text: str) -> bool:
    """Whether the database can keep (or look up) `text`: no NUL, no lone surrogate."""
    return _UNSTORABLE.search(text) is None


def clean_flag(value: object, field: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise Invalid("{field} must be true or false.", field=field)
    return value


def clean_choice(value: object, field: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices` (`default` when absent)."""
    if value is None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise Invalid(
            "{field} must be one of {allowed}.",
            field=field,
            code="invalid_choice",
            allowed=", ".join(choices),
        )
    return value

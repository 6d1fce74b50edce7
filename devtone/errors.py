"""Domain errors with a stable code; `web/errors.py` renders them as JSON.

A message is English, with `{name}` placeholders filled from the error's `params`, so the
web can show it in the reader's language: `make translations` finds the message (the
first argument of these classes, or of `N_`) and web/errors.py translates, then fills it.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for translation where it is written; it is translated when shown."""
    return message


class DevtoneError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        **params: object,
    ):
        super().__init__(message.format(field=field, **params))
        self.template = message
        self.params = params
        self.message = str(self)
        self.field = field
        if code is not None:
            self.code = code


class Invalid(DevtoneError):
    """The input breaks a rule (blank body, name too long, bad cursor …)."""

    code = "invalid"


class BadRequest(DevtoneError):
    """The request cannot be read at all (not JSON, wrong shape)."""

    code = "bad_request"


class TooLarge(DevtoneError):
    """The upload is larger than a limit allows (bytes, or an image's pixels)."""

    code = "payload_too_large"


class UnsupportedMediaType(DevtoneError):
    """The body is not `application/json`, or a file is of a kind devtone does not take."""

    code = "unsupported_media_type"


class Unauthorized(DevtoneError):
    """No credentials, or credentials that cannot be read."""

    code = "unauthorized"


class Forbidden(DevtoneError):
    """Credentials that do not open this conversation."""

    code = "forbidden"


class NotFound(DevtoneError):
    """No such conversation."""

    code = "not_found"


class Conflict(DevtoneError):
    """The request clashes with the conversation's state."""

    code = "conflict"


class Closed(Conflict):
    """The conversation is closed and takes no new messages."""

    code = "conversation_closed"


class TooManyRequests(DevtoneError):
    """Over an abuse limit for now; `retry_after` says in how many seconds to come back."""

    code = "too_many_requests"

    def __init__(
        self, message: str, *, retry_after: int, code: str | None = None, **params: object
    ):
        super().__init__(message, code=code, **params)
        self.retry_after = max(1, retry_after)

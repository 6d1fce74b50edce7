"""Access logs without tokens: EventSource and long-poll URLs carry a visitor's `?token=`,
a password reset link (/dashboard/reset/<token>) one of its own, and an e-mailed link to a
conversation its `#reopen=` (which browsers never send; redacted should a mail program or
a copy turn it into a query). A visitor data export's `?email=` is redacted too.

`RedactingLogger` is gunicorn's logger class (gunicorn.conf.py), `RedactingFilter` guards
the `make run` server's access logger; both rewrite what `redact` finds.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "<redacted>"

# A query parameter, wherever it sits: a request line, a query string, a Referer.
_PARAMETER = re.compile(r"(?P<start>^|[?&;#])(?P<name>[^=&;?\s\"]*)=(?P<value>[^&;\s\"]*)")
# An export's `?email=` (or `?identity=`) names the visitor whose data it is: personal
# data, which an access log must not keep (least of all after the visitor is erased).
_SECRET_PARAMETERS = frozenset({"token", "reopen", "email", "identity"})
# A password reset link's token, in a request line, a path or a Referer.
_RESET_LINK = re.compile(r"(?P<path>/dashboard/reset/)[^/?#\s\"]+")
# An Authorization header's credentials, should a log format include the header.
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer)\s+[^\s,\"]+")


def _redact_parameter(match: re.Match[str]) -> str:
    # Decoded, so `?%74oken=` (which the server reads as `token`) is caught too.
    if unquote_plus(match["name"]).lower() not in _SECRET_PARAMETERS:
        return match[0]
    return f"{match['start']}{match['name']}={REDACTED}"


def redact(text: str) -> str:
    """`text` with every `token=` value, reset link token and bearer credential replaced
    by <redacted>."""
    text = _PARAMETER.sub(_redact_parameter, text)
    text = _RESET_LINK.sub(lambda match: f"{match['path']}{REDACTED}", text)
    return _BEARER.sub(lambda match: f"{match['scheme']} {REDACTED}", text)


class RedactingLogger(Logger):
    """gunicorn's logger, whose access log atoms (request line, query, headers) never
    hold a visitor token, whatever `access_log_format` an operator picks."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        """gunicorn's atoms, every text one redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the finished message (gevent's access lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record` in place; never drop it."""
        message = record.getMessage()
        record.msg, record.args = redact(message), ()
        return True

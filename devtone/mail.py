"""Outgoing e-mail over SMTP, with the standard library's smtplib: off unless
DEVTONE_SMTP_URL names a server.

`Mailer.send` waits for the server's answer (an administrator is told at once when the
server is down); `Mailer.send_later` hands the message to a greenlet and returns (a page
that must answer the same whether or not it sent anything). Under gevent's monkey-patching
smtplib's socket waits are the event loop's, so neither blocks the worker; every wait is
bounded by DEVTONE_SMTP_TIMEOUT.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION_KEY = "devtone.mail"

#: How the connection is protected, by URL scheme, and the port each defaults to.
SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}

#: Messages `send_later` may have on their way at once; past it one is dropped (and
#: logged), so a flood of requests cannot pile up connections to a slow server.
IN_FLIGHT_MAX = 20


@dataclass(frozen=True)
class SmtpServer:
    """Where e-mail goes, as DEVTONE_SMTP_URL says."""

    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line

    @property
    def address(self) -> str:
        """host:port, for log lines and error pages (never the credentials)."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://`, `smtp+starttls://` or `smtps://`, with optional `user:password@` and
    `:port`; ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(f"the scheme must be one of {', '.join(s + '://' for s in SCHEMES)}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("it names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("it has a path or query; only user:password@host:port")
    security, default_port = SCHEMES[parts.scheme]
    return SmtpServer(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        # Percent-encoded in the URL, so a password may hold "@", ":" or "/".
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class MailNotSent(Exception):
    """The server could not be reached or refused the message; `reason` is one of
    timeout, refused, sign_in, recipient, failed (pages turn it into words)."""

    def __init__(self, reason: str, server: SmtpServer, detail: str):
        super().__init__(f"mail server {server.address}: {reason} ({detail})")
        self.reason = reason
        self.server = server


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text e-mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class Mailer:
    """Sends e-mail through one SMTP server."""

    def __init__(self, server: SmtpServer, sender: str, timeout: float):
        self.server = server
        self.sender = sender
        self.timeout = timeout
        self._in_flight = threading.BoundedSemaphore(IN_FLIGHT_MAX)

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` to the server now; MailNotSent if it cannot take it."""
        try:
            with self._connect() as smtp:
                if self.server.username:
                    smtp.login(self.server.username, self.server.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailNotSent(_reason(error), self.server, str(error)) from error

    def send_later(self, message: EmailMessage) -> None:
        """Deliver `message` in the background; a failure is logged, never raised."""
        if not self._in_flight.acquire(blocking=False):
            log.warning("e-mail not sent: %d already on their way", IN_FLIGHT_MAX)
            return
        # Under gevent's monkey-patching this thread is a greenlet.
        threading.Thread(
            target=self._send_logged, args=(message,), name="devtone-mail", daemon=True
        ).start()

    def _send_logged(self, message: EmailMessage) -> None:
        try:
            self.send(message)
        except MailNotSent as failure:
            log.warning("e-mail %r not sent: %s", message["Subject"], failure)
        finally:
            self._in_flight.release()

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "tls":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        if server.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return "timeout"  # smtplib reports a read that timed out as a lost connection
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "sign_in"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipient"
    return "failed"


def init_app(app: Flask) -> None:
    """Give `app` its Mailer when DEVTONE_SMTP_URL is set (None otherwise); connects to
    nothing until the first message."""
    url = app.config.get("SMTP_URL")
    app.extensions[EXTENSION_KEY] = (
        Mailer(parse_smtp_url(url), app.config["MAIL_FROM"], app.config["SMTP_TIMEOUT"])
        if url
        else None
    )


def mailer_of(app: Flask) -> Mailer | None:
    """The app's Mailer, or None when e-mail is not configured."""
    return app.extensions[EXTENSION_KEY]

"""A real SMTP server the tests start on a loopback port (aiosmtpd, in a thread of its
own): what devtone's e-mail goes to, and what refuses it for a while when a test says."""

from __future__ import annotations

import socket
import threading

import pytest


class MailServer:
    """A real SMTP server (aiosmtpd, in a thread of its own) on a loopback port, keeping
    every message it receives. With `credentials` it offers AUTH (over plain SMTP: it is
    loopback) and refuses any other login; each login tried is kept in `logins`. Its port
    is bound before it starts, as LiveServer's is."""

    def __init__(self, credentials: tuple[str, str] | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list = []
        self.logins: list[tuple[str, str]] = []
        #: While True, every message is refused with a temporary failure (451), counted in
        #: `refused`: a server that is down for a while.
        self.refusing = False
        self.refused = 0
        #: While set, every message is refused for good with this reply ("554 5.7.1 …"): a
        #: server whose policy rejects the e-mail itself, counted in `refused` too.
        self.rejecting: str | None = None
        #: Recipients refused at RCPT, each with the reply it gets ("550 5.1.1 No such user").
        self.refused_recipients: dict[str, str] = {}
        self._arrived = threading.Condition()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        server = self

        def authenticate(smtp, session, envelope, mechanism, secret) -> AuthResult:
            login = (secret.login.decode(), secret.password.decode())
            server.logins.append(login)
            return AuthResult(success=login == credentials, handled=False)

        class OnOurSocket(Controller):
            def _create_server(self):
                return self.loop.create_server(self._factory_invoker, sock=server.listener)

        options = {"authenticator": authenticate, "auth_require_tls": False}
        self.controller = OnOurSocket(
            self, hostname="127.0.0.1", port=self.port, **(options if credentials else {})
        )

    @property
    def url(self) -> str:
        """The DEVTONE_SMTP_URL of this server (without credentials)."""
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        """Take the recipient, unless `refused_recipients` says otherwise."""
        if address in self.refused_recipients:
            return self.refused_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd names it
        from email import message_from_bytes, policy

        if self.refusing or self.rejecting:
            self.refused += 1
            return self.rejecting or "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10) -> list:
        """The first `count` messages, once they have come (fails after `timeout` s)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"{count} e-mail(s) expected, {len(self.messages)} arrived")
            return self.messages[:count]

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.listener.close()

"""The mail receiver behind `flask --app devtone mail-in`: a small SMTP server (aiosmtpd)
that takes visitors' replies to devtone's e-mails and posts them into their
conversations (domain/mailed_replies.py).

Point the MX (or a forwarding rule) of DEVTONE_MAIL_REPLY_TO's domain at it, or run it
behind the mail server that receives for that domain. A recipient that is not a reply
address devtone made (unknown, or its signature forged) is refused at RCPT with 550,
before the message is sent; a reply that holds nothing of its own is refused at DATA. An
e-mail a program sent (an out-of-office reply, a bounce) is taken (250, so no server
bounces it back) and not posted.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from email import message_from_bytes, policy
from typing import Any

from flask import Flask

from devtone import errors, visitor_mail
from devtone.domain import conversation_links, mailed_replies

log = logging.getLogger(__name__)

#: The largest e-mail taken (bytes): a reply with attachments is still taken, its text kept.
SIZE_LIMIT = 10 * 1024 * 1024


class ReplyHandler:
    """aiosmtpd's handler: RCPT checks the reply address, DATA posts the reply."""

    def __init__(self, app: Flask):
        mailbox = visitor_mail.reply_mailbox(app)
        if mailbox is None:
            raise ValueError(
                "replies have no address: set DEVTONE_MAIL_REPLY_TO (or DEVTONE_MAIL_FROM)"
            )
        self.app = app
        self.mailbox = mailbox

    async def handle_RCPT(  # aiosmtpd's name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        """250 for a reply address of a conversation, 550 for any other."""
        try:
            await self._run(conversation_links.conversation_of_reply, address, self.mailbox)
        except errors.NotFound:
            return "550 5.1.1 No such conversation here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's
        """Post the reply's fresh text in every conversation it was addressed to."""
        message = message_from_bytes(envelope.content, policy=policy.default)
        # MAIL FROM:<> is what bounces and RFC 3834's responders send from.
        sent_by = "MAIL FROM:<>" if envelope.mail_from in ("", "<>") else None
        sent_by = sent_by or mailed_replies.automatic(message.get)
        if sent_by:
            log.info("an automatic e-mail to %s not posted (%s)", envelope.rcpt_tos, sent_by)
            return "250 Automatic e-mail taken, not posted"
        text = mailed_replies.reply_text(message)
        try:
            for address in envelope.rcpt_tos:
                await self._run(
                    mailed_replies.post_reply, address, self.mailbox, text, message["Message-ID"]
                )
        except errors.Invalid as refused:
            return f"550 5.6.0 {refused.message}"
        except errors.DevtoneError as refused:
            return f"550 5.7.1 {refused.message}"
        return "250 Message accepted"

    async def _run(self, function: Any, *arguments: Any) -> Any:
        # The domain is synchronous: it runs off the event loop, in an app context.
        def call() -> Any:
            with self.app.app_context():
                return function(*arguments)

        return await asyncio.get_running_loop().run_in_executor(None, call)


def receiver(app: Flask, host: str, port: int, listener: socket.socket | None = None) -> Any:
    """An aiosmtpd Controller for `app` on host:port (or on `listener`, a socket already
    bound there), not started yet."""
    from aiosmtpd.controller import Controller

    class OnListener(Controller):
        def _create_server(self) -> Any:
            if listener is None:
                return super()._create_server()
            return self.loop.create_server(self._factory_invoker, sock=listener)

    return OnListener(ReplyHandler(app), hostname=host, port=port, data_size_limit=SIZE_LIMIT)

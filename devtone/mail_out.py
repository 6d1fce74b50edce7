"""The mail sender: one process at a time (elected through the database, leases.py)
turns unseen agent replies into outbox e-mails and sends what the outbox holds, retrying
with a growing wait while the mail server will not take them.

It runs inside every devtone server (server.py for `make run`, gunicorn.conf.py for each
worker): all of them try, one holds the lease, and another takes over within
LEASE_SECONDS of it stopping, so a deployment starts nothing else. `flask --app devtone
mail-out` runs it alone. Off (never started) without DEVTONE_SMTP_URL.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from devtone import mail, visitor_mail
from devtone.domain import leases, outbox, reply_mail

log = logging.getLogger(__name__)

LEASE = "mail-out"
#: How long the lease lasts unless renewed: the longest a dead holder's e-mails wait.
LEASE_SECONDS = 60.0


class MailSender:
    """Queues and sends visitors' e-mails for one app, while it holds the lease."""

    def __init__(self, app: Flask, mailer: mail.Mailer):
        self.app = app
        self.mailer = mailer
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()

    def round(self) -> int:
        """One turn: if this process holds the lease, queue the replies left unseen long
        enough, then send every e-mail due; return how many were sent."""
        config = self.app.config
        with self.app.app_context():
            if not leases.hold(LEASE, self.holder, LEASE_SECONDS):
                return 0
            reply_mail.queue_unseen_replies(config["EMAIL_AFTER"])
            sent = 0
            for letter in outbox.due():
                if not leases.hold(LEASE, self.holder, LEASE_SECONDS):
                    break  # another process took over (we were too slow): it sends the rest
                sent += self._send(letter)
            return sent

    def _send(self, letter: outbox.Letter) -> int:
        try:
            message = visitor_mail.compose(self.app, letter)
        except Exception as error:
            # An e-mail that cannot even be written never will be: given up, so the ones
            # behind it still go (it would otherwise come first in every turn, for ever).
            log.exception("e-mail %d cannot be written: given up", letter.id)
            outbox.not_sent(letter.id, letter.attempts, repr(error), 0, final=True)
            return 0
        try:
            self.mailer.send(message)
        except mail.MailNotSent as failure:
            final = _refused_for_good(failure)
            log.warning("e-mail %d not sent (try %d): %s", letter.id, letter.attempts + 1, failure)
            outbox.not_sent(
                letter.id, letter.attempts, str(failure), self.app.config["MAIL_RETRY_AFTER"], final
            )
            return 0
        outbox.sent(letter.id)
        return 1

    def run(self) -> None:
        """Take turns every DEVTONE_MAIL_CHECK_EVERY seconds until `stop()`; an error of
        one turn (the database away) is logged and the next turn tries again."""
        every = self.app.config["MAIL_CHECK_EVERY"]
        try:
            while not self._stop.is_set():
                try:
                    self.round()
                except SQLAlchemyError as error:
                    log.warning("mail sender: the database failed (%s)", type(error).__name__)
                except Exception:
                    log.exception("mail sender: a turn failed")
                self._stop.wait(every)
        finally:
            with self.app.app_context():
                leases.release(LEASE, self.holder)

    def stop(self) -> None:
        """End `run` after its current turn, giving the lease up."""
        self._stop.set()


def _refused_for_good(failure: mail.MailNotSent) -> bool:
    """Whether the server refused this e-mail with a 5xx, which RFC 5321 makes permanent:
    the address does not exist, or the message itself is refused (a content or spam
    policy); no retry of the same e-mail helps. A 4xx refusal (greylisting, a full
    mailbox) is tried again, and so is a refused sign-in or sender, the deployment's to
    fix: those stop at the outbox's lifetime (outbox.GIVE_UP_AFTER)."""
    refused = failure.__cause__
    if isinstance(refused, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in refused.recipients.values())
    return isinstance(refused, smtplib.SMTPDataError) and refused.smtp_code >= 500


def start(app: Flask) -> MailSender | None:
    """Run the app's sender in the background (a greenlet under gevent); None when e-mail
    is off."""
    mailer = mail.mailer_of(app)
    if mailer is None:
        return None
    sender = MailSender(app, mailer)
    threading.Thread(target=sender.run, name="devtone-mail-out", daemon=True).start()
    return sender

"""The webhook sender: one process at a time (elected through the database, leases.py)
fans new events out to the endpoints that want them and POSTs each delivery, signed,
retrying with a growing wait while the receiver does not answer 2xx (docs/webhooks.md).

It runs inside every devtone server (server.py for `make run`, gunicorn.conf.py for each
worker): all of them try, one holds the lease, and another takes over within
DEVTONE_WEBHOOK_LEASE_SECONDS of it stopping. `flask --app devtone webhooks-out` runs it
alone. While no endpoint is enabled it takes no lease and sends nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import os
import secrets
import socket
import threading
import time

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from devtone.domain import leases, webhook_deliveries, webhook_events, webhook_urls
from devtone.errors import Invalid

log = logging.getLogger(__name__)

LEASE = "webhooks-out"
USER_AGENT = "devtone-webhooks/1"
#: Seconds between two prunings of old events by the lease holder.
PRUNE_EVERY = 3600.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Devtone-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`
    (Stripe's scheme, so its verifiers work)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class NotDelivered(Exception):
    """The receiver did not take the delivery; `status` is its HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class WebhookSender:
    """Delivers webhooks for one app, while it holds the lease."""

    def __init__(self, app: Flask):
        self.app = app
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._pruned_at = float("-inf")

    def round(self) -> int:
        """One turn: if an endpoint is enabled and this process holds the lease, fan new
        events out, then send every delivery due; return how much was done (events fanned
        out and deliveries made): while there is some, the next turn comes at once.

        An endpoint that cannot be reached (no answer, or too slow) is passed over for the
        rest of the turn: a receiver that is down costs one timeout per turn, not one per
        delivery it holds up, and the other endpoints' events go on. One that answers
        with an error is tried for its other conversations' events as usual."""
        config = self.app.config
        with self.app.app_context():
            if not webhook_events.wanted():
                return 0
            if not leases.hold(LEASE, self.holder, config["WEBHOOK_LEASE_SECONDS"]):
                return 0
            if time.monotonic() - self._pruned_at >= PRUNE_EVERY:
                webhook_deliveries.prune()
                self._pruned_at = time.monotonic()
            done = webhook_deliveries.fan_out()
            failing: set[int] = set()
            for parcel in webhook_deliveries.due():
                if parcel.endpoint_id in failing:
                    continue  # still due: tried again next turn, in its order
                if not leases.hold(LEASE, self.holder, config["WEBHOOK_LEASE_SECONDS"]):
                    break  # another process took over (we were too slow): it sends the rest
                delivered = self._send(parcel)
                if delivered is None:
                    failing.add(parcel.endpoint_id)
                done += bool(delivered)
            return done

    def _send(self, parcel: webhook_deliveries.Parcel) -> bool | None:
        """Whether the receiver took the delivery; None when it could not be reached."""
        config = self.app.config
        try:
            status = post(parcel, config["WEBHOOK_TIMEOUT"], config["WEBHOOK_ALLOW_PRIVATE"])
        except NotDelivered as failure:
            log.warning(
                "webhook %s to endpoint %d not delivered (try %d): %s",
                parcel.event_id, parcel.endpoint_id, parcel.attempts + 1, failure,
            )  # fmt: skip
            webhook_deliveries.not_delivered(
                parcel,
                failure.status,
                str(failure),
                config["WEBHOOK_RETRY_AFTER"],
                config["WEBHOOK_GIVE_UP_AFTER"],
            )
            return None if failure.status is None else False
        webhook_deliveries.delivered(parcel, status)
        return True

    def run(self) -> None:
        """Take turns until `stop()`: at once again while there was something to send,
        else after DEVTONE_WEBHOOK_CHECK_EVERY seconds; an error of one turn (the
        database away) is logged and the next turn tries again."""
        every = self.app.config["WEBHOOK_CHECK_EVERY"]
        try:
            while not self._stop.is_set():
                busy = False
                try:
                    busy = self.round() > 0
                except SQLAlchemyError as error:
                    log.warning("webhook sender: the database failed (%s)", type(error).__name__)
                except Exception:
                    log.exception("webhook sender: a turn failed")
                if not busy:
                    self._stop.wait(every)
        finally:
            with self.app.app_context():
                leases.release(LEASE, self.holder)

    def stop(self) -> None:
        """End `run` after its current turn, giving the lease up."""
        self._stop.set()


def post(parcel: webhook_deliveries.Parcel, timeout: float, allow_private: bool) -> int:
    """POST the event's body to the endpoint, signed; its 2xx status, or NotDelivered.

    The URL is checked again (its name may resolve elsewhere now) and the connection goes
    to the address checked, so a name cannot change between the check and the request.
    """
    try:
        target = webhook_urls.check(parcel.url, allow_private)
    except Invalid as refused:
        raise NotDelivered(str(refused)) from None
    body = parcel.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Devtone-Event-Id": parcel.event_id,
        "Devtone-Signature": signature(parcel.secret, int(time.time()), body),
    }
    connection = _connection(target, timeout)
    # `timeout` bounds each wait on the socket; a receiver trickling its answer a byte at a
    # time would never hit it, and would hold the sender past its lease. The whole exchange
    # gets twice `timeout`, then the socket is shut.
    deadline = threading.Timer(2 * timeout, _hang_up, [connection])
    deadline.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        status = answer.status
        try:
            answer.read(64 * 1024)  # a receiver's long answer is none of our business
        except (OSError, http.client.HTTPException):
            pass  # the status said it all
    except (OSError, http.client.HTTPException) as error:
        raise NotDelivered(f"{type(error).__name__}: {error}"[:200]) from None
    finally:
        deadline.cancel()
        connection.close()
    if not 200 <= status < 300:
        raise NotDelivered(f"HTTP {status}", status)
    return status


def _hang_up(connection: http.client.HTTPConnection) -> None:
    """Shut the connection's socket: a read or write blocked on it returns at once."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # closed already


def _connection(target: webhook_urls.Target, timeout: float) -> http.client.HTTPConnection:
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.host, target.port, timeout=timeout)
    address = target.address

    def connect_to_checked(_: object, timeout: float, source: object = None) -> socket.socket:
        return socket.create_connection((address, target.port), timeout, source)

    # http.client opens its socket here (TLS then wraps it for `host`, so the
    # certificate is still checked against the name).
    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]
    return connection


def start(app: Flask) -> WebhookSender:
    """Run the app's sender in the background (a greenlet under gevent)."""
    sender = WebhookSender(app)
    threading.Thread(target=sender.run, name="devtone-webhooks-out", daemon=True).start()
    return sender

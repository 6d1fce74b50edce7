"""Agents' session cookie: Flask's signed cookie, its signer made once, not per request.

Flask builds a new signing serializer for every request, to open the session and again to
save it, whether the caller has a cookie or not (a visitor never has one): ~40 µs of every
request in py-spy's profile of the message and long-poll endpoints (2026-12). The
cookie, its signature and its keys are Flask's own; only the signer is kept.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's session interface, with the signer of the app's current keys kept."""

    def __init__(self) -> None:
        self._keys: tuple[object, ...] | None = None
        self._signer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's signer, made again only when the secret key or its fallbacks change."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._signer = super().get_signing_serializer(app)
            self._keys = keys
        return self._signer


def init_app(app: Flask) -> None:
    """Sign `app`'s session cookies with a kept signer."""
    app.session_interface = SignedCookieSessions()

"""Render every error under /api as {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sql
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from devtone import errors
from devtone.extensions import db

STATUS = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Invalid: 422,
    errors.TooManyRequests: 429,
}

#: Seconds a client waits before trying again when the database failed its request (503):
#: about one pool timeout, and the first step of the browser's backoff. Posting is
#: idempotent (client_id), so the retry is safe whatever became of the first try.
DATABASE_RETRY_AFTER = 2

# Werkzeug's names for HTTP errors the API can raise without a domain error behind them.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def translated(error: errors.DevtoneError) -> str:
    """The error's message in the request's language (web/i18n.py), placeholders filled."""
    return gettext(error.template).format(field=error.field, **error.params)


def status_of(error: errors.DevtoneError) -> int:
    """The HTTP status of a domain error, for the JSON shape and for pages alike."""
    return next(s for cls, s in STATUS.items() if isinstance(error, cls))


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """The JSON error shape of the HTTP contract."""
    body = {"error": {"code": code, "message": message, "field": field}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="devtone"'
    return response


def _keep_headers(error: HTTPException, response: Response) -> Response:
    """Headers the error brought (Retry-After on a 429, Allow on a 405)."""
    if error.response is not None:
        for name in ("Retry-After", "Allow"):
            if name in error.response.headers:
                response.headers[name] = error.response.headers[name]
    for name, value in error.get_headers():
        if name in ("Retry-After", "Allow"):
            response.headers[name] = value
    return response


def register(app: Flask) -> None:
    """Install the handlers: domain errors everywhere, HTTP errors as JSON under /api."""

    @app.errorhandler(errors.DevtoneError)
    def domain_error(error: errors.DevtoneError) -> Response:
        db.session.rollback()
        response = error_response(status_of(error), error.code, translated(error), error.field)
        if isinstance(error, errors.TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response | CSRFError:
        if not request.path.startswith("/api/"):
            return error
        message = f"{error.description} Send it in the X-CSRFToken header."
        return error_response(403, "csrf_failed", message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        return _keep_headers(error, error_response(status, code, error.description or error.name))

    # The database itself failed (hung, down, no pooled connection in time, a statement
    # cancelled by its timeout), not the request or the code: the client may try again.
    @app.errorhandler(sql.OperationalError)
    @app.errorhandler(sql.TimeoutError)
    def database_unavailable(error: sql.SQLAlchemyError) -> Response | HTTPException:
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return _database_unavailable_response()

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response | HTTPException:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return InternalServerError()
        return error_response(500, "internal_error", "Something went wrong on our side.")


def _database_unavailable_response() -> Response | HTTPException:
    """503 with Retry-After: the JSON error shape under /api, the plain page elsewhere."""
    _rollback_quietly()
    if not request.path.startswith("/api/"):
        return ServiceUnavailable(retry_after=DATABASE_RETRY_AFTER)
    response = error_response(
        503, "database_unavailable", "The database is not answering; try again shortly."
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def _rollback_quietly() -> None:
    # The connection is usually gone already: there is nothing to roll back on it.
    try:
        db.session.rollback()
    except sql.SQLAlchemyError:
        db.session.remove()

"""Render every error under /api as {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from devtone import errors
from devtone.extensions import db

STATUS = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.UnsupportedMediaType: 415,
    errors.Invalid: 422,
    errors.TooManyRequests: 429,
}

# Werkzeug's names for HTTP errors the API can raise without a domain error behind them.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


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
        status = next(s for cls, s in STATUS.items() if isinstance(error, cls))
        response = error_response(status, error.code, error.message, error.field)
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

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response | HTTPException:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return InternalServerError()
        return error_response(500, "internal_error", "Something went wrong on our side.")

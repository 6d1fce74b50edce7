"""GET /api/openapi.yaml: the HTTP contract, served from the file that ships in the package."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_file
from werkzeug.wrappers import Response

bp = Blueprint("contract", __name__, url_prefix="/api")

# The one copy lives in the package (package data), so every install serves the contract
# of its own code; docs/openapi.yaml is a symbolic link to it.
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"

#: Clients and tools fetch it often; a release changes it, so caches revalidate (ETag).
MAX_AGE = 300


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI document of this server (application/yaml, RFC 9512)."""
    response = send_file(
        OPENAPI_PATH, mimetype="application/yaml", max_age=MAX_AGE, conditional=True
    )
    response.cache_control.public = True
    return response

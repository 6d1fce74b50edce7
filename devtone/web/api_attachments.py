"""Attachments under /api: send a file as a message (multipart), and read it back.

A file is read back only by the conversation's visitor (their bearer token) and agents.
The pages fetch it with the same credentials as every other call and show it from a
`blob:` URL: the file's URL alone opens nothing, so a copied link, a Referer or a proxy's
log gives no one the file (a secret in the URL, or a cookie for visitors, would).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request, send_file

from devtone import errors
from devtone.domain import attachments
from devtone.file_store import files_of
from devtone.web import limits
from devtone.web.request import caller

bp = Blueprint("api_attachments", __name__, url_prefix="/api")

#: What a multipart body adds to its file at most: the boundaries, the part headers and
#: the client_id field.
MULTIPART_OVERHEAD = 16 * 1024
#: How long a browser may keep a file it was given (privately: it is the reader's).
CACHE_SECONDS = 3600


@bp.post("/conversations/<id:conversation_id>/attachments")
def attach(conversation_id: int) -> tuple[dict[str, Any], int]:
    """Send a file (`file`, `client_id`); the same client_id again answers 200 with it."""
    size_limit = current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024
    # Before anything reads the body: a larger one is refused (413) from its
    # Content-Length alone, or as soon as that much has come without one.
    request.max_content_length = size_limit + MULTIPART_OVERHEAD
    if request.mimetype != "multipart/form-data":
        raise errors.UnsupportedMediaType("Send the file as multipart/form-data.")
    who = caller()
    upload = request.files.get("file")
    if upload is None:
        raise errors.Invalid("Choose a file to send.", field="file", code="required")
    limits.count_message(conversation_id, who)
    message, created = attachments.attach_file(
        conversation_id,
        who,
        upload.stream.read(size_limit + 1),
        upload.filename,
        request.form.get("client_id"),
        files_of(current_app),
        size_limit,
    )
    return {"message": message}, 201 if created else 200


@bp.get("/conversations/<id:conversation_id>/attachments/<attachment_id>")
def attachment_file(conversation_id: int, attachment_id: str) -> Response:
    """The file: an image inline, anything else as a download; never run as a page
    (security_headers.py gives this answer its sandbox)."""
    found, file = attachments.open_file(
        conversation_id, attachment_id, caller(), files_of(current_app)
    )
    image = found["content_type"].startswith("image/")
    response = send_file(
        file,
        mimetype=found["content_type"],  # Flask adds text/plain's "; charset=utf-8"
        as_attachment=not image,
        download_name=found["name"],
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=CACHE_SECONDS,
    )
    response.headers["Content-Length"] = str(found["size"])
    response.cache_control.private = True
    response.cache_control.public = False
    return response

"""Text answers travel compressed; a stream, a small answer and the build's own
precompressed copies are never compressed (again) on the way out."""

import gzip
import uuid

import brotli
import pytest

from devtone.web import assets
from tests.conftest import ON_SQLITE

GZIP = {"Accept-Encoding": "gzip"}
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends
# Whether an answer is compressed depends on its type and size, not on the storage.
pytestmark = ON_SQLITE


def _bundle(client, name):
    manifest = client.application.extensions["devtone.assets"]
    return f"/static/build/{manifest[name]}"


def test_a_page_comes_back_gzipped_to_a_browser_that_takes_gzip(client):
    answer = client.get("/chat", headers=GZIP)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert b'id="start-form"' in gzip.decompress(answer.data)
    assert "Content-Encoding" not in client.get("/chat").headers  # and plain to one that does not


@pytest.mark.parametrize("name", ["chat.js", "devtone.css"])
def test_a_bundle_comes_back_as_its_precompressed_copy(client, name):
    url = _bundle(client, name)
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    zipped = client.get(url, headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) < len(plain.data) / 2
    assert gzip.decompress(zipped.data) == plain.data
    squeezed = client.get(url, headers=BROWSER)
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == plain.data
    # Each copy has its own validator, so a cache never answers one with the other.
    assert len({plain.headers["ETag"], zipped.headers["ETag"], squeezed.headers["ETag"]}) == 3
    for answer in (plain, zipped, squeezed):
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_widget_loader_comes_back_gzipped(client):
    answer = client.get("/widget.js", headers=GZIP)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
    built = (assets.build_folder(client.application) / "widget.js").read_bytes()
    assert gzip.decompress(answer.data) == built


def test_an_sse_stream_is_never_compressed(client, visitor):
    url = f"/api/conversations/{visitor.id}/events?token={visitor.token}"
    answer = client.get(url, headers=BROWSER, buffered=False)
    try:
        assert answer.mimetype == "text/event-stream"
        assert "Content-Encoding" not in answer.headers
        assert next(iter(answer.response)).startswith(b"retry:")  # plain text, frame by frame
    finally:
        answer.close()


def test_a_small_api_answer_is_not_compressed(client, visitor):
    answer = client.get(f"/api/conversations/{visitor.id}", headers={**visitor.headers, **BROWSER})
    assert answer.status_code == 200
    assert len(answer.data) < 1000
    assert "Content-Encoding" not in answer.headers


def test_a_large_api_answer_is_compressed(client, visitor):
    for n in range(8):
        body = {"body": f"message {n}: " + "the parcel left the warehouse " * 4}
        posted = client.post(
            f"/api/conversations/{visitor.id}/messages",
            json={**body, "client_id": str(uuid.uuid4())},
            headers=visitor.headers,
        )
        assert posted.status_code == 201
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0", headers={**visitor.headers, **GZIP}
    )
    assert answer.headers["Content-Encoding"] == "gzip"
    assert b"the parcel left" in gzip.decompress(answer.data)

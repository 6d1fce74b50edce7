"""gunicorn's access log, as gunicorn.conf.py configures it, never holds a visitor token."""

import uuid

import pytest
import requests
import sseclient

from tests.conftest import ON_SQLITE

pytestmark = [
    pytest.mark.live,
    # The log is the server's, whatever the storage: SQLite is enough.
    ON_SQLITE,
]


def test_the_access_log_redacts_visitor_tokens(live_server, visitor):
    server = live_server(DEVTONE_ACCESS_LOG="-")
    conversation = f"{server.url}/api/conversations/{visitor.id}"
    with requests.get(
        f"{conversation}/events", params={"token": visitor.token}, stream=True, timeout=(5, 30)
    ) as stream:
        events = sseclient.SSEClient(stream.iter_content(chunk_size=None)).events()
        assert next(events).event == "hello"
    posted = requests.post(
        f"{conversation}/messages",
        json={"body": "hello", "client_id": str(uuid.uuid4())},
        headers=visitor.headers,
        timeout=10,
    )
    assert posted.status_code == 201
    waited = requests.get(
        f"{conversation}/messages",
        params={"after": 0, "wait": 0, "token": visitor.token},
        timeout=10,
    )
    assert waited.status_code == 200
    server.stop()  # every access line is written by now

    log = server.log.read_text()
    assert f"/api/conversations/{visitor.id}/messages?after=0&wait=0&token=<redacted>" in log
    assert f"/api/conversations/{visitor.id}/events?token=<redacted>" in log
    assert visitor.token not in log

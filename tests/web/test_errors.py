"""A database that fails a request (hung, down, no pooled connection in time) answers 503
`database_unavailable` in the JSON error shape, with Retry-After; never a 500, never a
hang."""

import threading
import uuid

import pytest

from devtone import create_app
from devtone.domain import conversations
from devtone.extensions import db
from devtone.web.errors import DATABASE_RETRY_AFTER


def answer_within(seconds, call):
    """`call()`'s result, failing the test if it takes longer than `seconds`."""
    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"no answer within {seconds} s"
    return result[0]


def assert_database_unavailable(answer):
    assert answer.status_code == 503
    assert answer.get_json() == {
        "error": {
            "code": "database_unavailable",
            "message": "The database is not answering; try again shortly.",
            "field": None,
        }
    }
    assert answer.headers["Retry-After"] == str(DATABASE_RETRY_AFTER)


@pytest.fixture
def small_pool_app(database_url):
    """An app with one pooled connection and a pool timeout of a tenth of a second."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DB_POOL_SIZE": 1,
            "DB_POOL_TIMEOUT": 0.1,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_no_pooled_connection_in_time_is_503_with_retry_after(small_pool_app):
    with small_pool_app.app_context():
        conversation, token = conversations.start_conversation("Ada")
        held = db.engine.connect()  # the pool's only connection, busy elsewhere
    try:
        answer = small_pool_app.test_client().post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"body": "hi", "client_id": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        held.close()
    assert_database_unavailable(answer)


def test_a_request_to_a_database_that_answers_nothing_is_503_within_the_connect_timeout(
    silent_server,
):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": silent_server.url("postgresql"), "DB_CONNECT_TIMEOUT": 2}
    )
    client = app.test_client()
    answer = answer_within(
        4,
        lambda: client.get("/api/conversations/1", headers={"Authorization": "Bearer " + "x" * 43}),
    )
    assert_database_unavailable(answer)

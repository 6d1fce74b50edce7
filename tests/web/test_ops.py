"""/healthz and /readyz."""

import threading
import time

from devtone import create_app


def test_healthz_answers_without_touching_anything(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_the_database_and_the_broker(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_readyz_is_503_without_the_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:9/none"})
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["database"] == "unavailable"


def test_readyz_is_degraded_but_serving_when_redis_is_unreachable(database_url):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": "redis://127.0.0.1:9/0"}
    )
    try:
        answer = app.test_client().get("/readyz")
    finally:
        app.extensions["devtone.broker"].close()
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "degraded", "database": "ok", "broker": "unavailable"}


def timed_readyz(app):
    """/readyz's answer and how long it took, failing the test if it takes over 5 s."""
    client = app.test_client()
    answers = []

    def ask():
        started = time.monotonic()
        answers.append((client.get("/readyz"), time.monotonic() - started))

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(5)
    assert answers, "/readyz did not answer within 5 s"
    return answers[0]


def test_readyz_is_503_within_two_seconds_when_the_database_answers_nothing(silent_server):
    app = create_app({"SQLALCHEMY_DATABASE_URI": silent_server.url("postgresql")})
    answer, seconds = timed_readyz(app)
    assert answer.status_code == 503
    assert answer.get_json()["database"] == "unavailable"
    assert seconds < 2


def test_readyz_is_degraded_within_two_seconds_when_redis_answers_nothing(
    database_url, silent_server
):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": silent_server.url("redis")}
    )
    try:
        answer, seconds = timed_readyz(app)
    finally:
        app.extensions["devtone.broker"].close()
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "degraded", "database": "ok", "broker": "unavailable"}
    assert seconds < 2

"""DEVTONE_RETENTION_DAYS: the daily run inside every server (one process at a time, once a
day through its lease) erases closed conversations older than that; unset, nothing runs."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from devtone import config, retention
from devtone.domain import audit, erasure
from devtone.domain.models import Conversation, utcnow
from devtone.extensions import db
from tests.conftest import app_on
from tests.visitor_data_steps import NAME, full_history, stored_files, traces_in_database


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    with app_on(database_url, redis_url, redis_channel, RETENTION_DAYS=30) as app:
        yield app


def test_the_days_run_erases_what_is_older_than_the_setting_once_across_processes(
    app, agent, clock
):
    clock.now = utcnow() - timedelta(days=31)
    old = full_history(app, agent)
    clock.now = utcnow() - timedelta(days=29)
    kept = full_history(app, agent, email="kept@example.com")
    first, second = retention.RetentionJob(app, 30), retention.RetentionJob(app, 30)
    assert first.round() == [old.id]
    # Within the day nobody runs it again, not even the process that did.
    assert second.round() is None
    assert first.round() is None
    assert len(stored_files(app)) == 2  # the kept conversation's
    with app.app_context():
        names = dict(db.session.execute(select(Conversation.id, Conversation.visitor_name)).all())
        db.session.remove()
    assert names == {old.id: erasure.ERASED_NAME, kept.id: NAME}
    with app.app_context():
        [entry] = audit.recent()
    assert (entry["action"], entry["actor"]["kind"]) == ("retention.erase", "system")


def test_the_run_goes_on_past_one_batch(app, agent, clock, monkeypatch):
    monkeypatch.setattr(retention.erasure, "RETENTION_BATCH", 1)
    clock.now = utcnow() - timedelta(days=40)
    ids = [full_history(app, agent, email=f"v{n}@example.com").id for n in range(3)]
    assert retention.RetentionJob(app, 30).round() == ids
    assert traces_in_database(app) == [] and stored_files(app) == []


def test_nothing_runs_without_the_setting(database_url, redis_url, redis_channel):
    with app_on(database_url, redis_url, redis_channel) as app:
        assert app.config["RETENTION_DAYS"] is None
        assert retention.start(app) is None


def test_the_job_starts_with_the_setting_and_stops(app):
    job = retention.start(app)
    try:
        assert job is not None and job.days == 30
    finally:
        job.stop()


@pytest.mark.parametrize("raw", ["0", "-3", "thirty", "1.5"])
def test_a_retention_that_is_not_a_whole_number_of_days_is_refused_naming_the_key(raw, tmp_path):
    with pytest.raises(config.ConfigError, match="DEVTONE_RETENTION_DAYS"):
        config.load({"DEVTONE_RETENTION_DAYS": raw}, str(tmp_path))


def test_the_retention_is_read_in_days(tmp_path):
    assert config.load({"DEVTONE_RETENTION_DAYS": "365"}, str(tmp_path))["RETENTION_DAYS"] == 365


def test_every_server_runs_it_and_two_workers_run_it_once(app, agent, clock, live_server):
    clock.now = utcnow() - timedelta(days=31)
    old = full_history(app, agent)
    live_server(
        DEVTONE_RETENTION_DAYS="30",
        DEVTONE_WORKERS="2",
        DEVTONE_UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"],
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and stored_files(app):
        time.sleep(0.2)
    time.sleep(1)  # the second worker's look, which must find the day's run done
    with app.app_context():
        name = db.session.get(Conversation, old.id).visitor_name
        db.session.remove()
        entries = audit.recent()
    assert name == erasure.ERASED_NAME and stored_files(app) == []
    assert [e["action"] for e in entries] == ["retention.erase"]

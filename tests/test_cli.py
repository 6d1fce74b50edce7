"""`flask --app devtone init-db`, and the embedded server behind `make run`."""

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect

from devtone import create_app

ROOT = Path(__file__).resolve().parent.parent


def test_init_db_creates_the_schema_and_the_instance_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Schema ready" in result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'devtone.sqlite3'}")
    assert {"conversations", "messages"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert (tmp_path / "secret_key").exists()
    # Running it again changes nothing and does not fail.
    again = app.test_cli_runner().invoke(args=["init-db"])
    assert again.exit_code == 0, again.output


def test_make_run_serves_the_chat_with_no_other_service(tmp_path):
    """What `make run` starts (`python wsgi.py`), on a fresh instance folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DEVTONE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DEVTONE_INSTANCE_PATH=str(tmp_path / "instance"), DEVTONE_PORT="0")
    process = subprocess.Popen(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()

    def watch():
        for line in process.stdout:
            lines.append(line)
            if "serving on" in line:
                found.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert found.wait(30), "".join(lines)
        url = re.search(r"http://\S+/chat", "".join(lines)).group(0)
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        assert 'id="chat"' in page.text
        started = requests.post(
            url.replace("/chat", "/api/conversations"), json={"name": "Ada"}, timeout=10
        )
        assert started.status_code == 201
        assert (tmp_path / "instance" / "devtone.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        watcher.join(timeout=5)

"""gunicorn.conf.py's hooks under any WSGI app: the benchmark serves Flask-SSE with the
same file, and a worker whose app failed to load still boots (it serves the error)."""

import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.servers import ROOT, free_port, stop_process, wait_until_healthy

PLAIN_APP = """
from flask import Flask

app = Flask("plain")


@app.get("/healthz")
def healthz():
    return "ok"
"""


def test_a_worker_serving_another_flask_app_boots_and_answers(tmp_path: Path):
    (tmp_path / "plain.py").write_text(PLAIN_APP)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                *("-c", str(ROOT / "gunicorn.conf.py")),
                *("--workers", "1", "--bind", f"127.0.0.1:{port}"),
                *("--pythonpath", str(tmp_path), "plain:app"),
            ],
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process, log, seconds=20)
        assert requests.get(f"{url}/healthz", timeout=5).text == "ok"
    finally:
        stop_process(process, signal.SIGQUIT, grace=10)
    assert "Worker failed to boot" not in log.read_text()

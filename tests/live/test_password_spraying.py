"""Password spraying against a live gunicorn: twelve attackers rotating e-mails from one
address meet the per-address limit, and the worker keeps answering meanwhile.
"""

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.live

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ATTACKERS, TRIES = 12, 5  # bounded: 60 attempts in all


def sign_in(session, url, email, password):
    page = session.get(f"{url}/dashboard/login", timeout=10)
    token = _CSRF.search(page.text).group(1)
    return session.post(
        f"{url}/dashboard/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    ).status_code


def test_spraying_from_one_address_is_cut_off_and_the_worker_keeps_answering(live_server):
    server = live_server(DEVTONE_WORKERS="1", DEVTONE_LOGIN_ADDRESS_RATE_LIMIT="20 per minute")
    spraying = threading.Event()
    health: list[float] = []

    def watch_health():
        while not spraying.is_set():
            started = time.monotonic()
            assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
            health.append(time.monotonic() - started)
            time.sleep(0.02)

    def attacker(n):
        with requests.Session() as session:
            return [
                sign_in(session, server.url, f"user{n}.{i}@example.com", "Verao2026!")
                for i in range(TRIES)
            ]

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=ATTACKERS) as pool:
            statuses = [s for tries in pool.map(attacker, range(ATTACKERS)) for s in tries]
    finally:
        spraying.set()
        watcher.join(timeout=10)
    assert statuses.count(401) == 20  # the address's allowance, then…
    assert statuses.count(429) == ATTACKERS * TRIES - 20  # …refused before any scrypt
    print(
        f"healthz while spraying: median {statistics.median(health) * 1000:.1f} ms,"
        f" max {max(health) * 1000:.1f} ms over {len(health)} requests"
    )

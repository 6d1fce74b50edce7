"""Password spraying: attempts are limited per address across e-mails and, per account
across addresses, slowed by a growing delay that never keeps the agent's own browser out;
scrypt runs off the event loop."""

import uuid

import gevent
import pytest

from devtone.domain import agents
from tests.conftest import _CSRF_INPUT, AGENT_PASSWORD, app_on, counted_in_redis


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    """The usual app, with a small per-address limit counted in Redis on the production pair."""
    with app_on(
        database_url,
        redis_url,
        redis_channel,
        **counted_in_redis(redis_url, redis_channel),
        LOGIN_ADDRESS_RATE_LIMIT="8 per minute",
        LOGIN_RATE_LIMIT="100 per minute",
    ) as app:
        yield app


_block = [""]


@pytest.fixture(autouse=True)
def _own_addresses():
    """Flask-Limiter keeps the key prefix of the first app in the process, so tests sharing
    Redis keep apart by address: each test signs in from a block of its own."""
    _block[0] = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def at(n: int) -> str:
    """Address n of this test's block (documentation addresses, RFC 3849)."""
    return f"{_block[0]}::{n:x}"


def attempt(client, email, password, address=None):
    address = address or at(0xFFFF)
    page = client.get("/dashboard/login", environ_base={"REMOTE_ADDR": address})
    token = _CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    return client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_rotating_e_mails_from_one_address_hits_the_address_limit(client, agent):
    statuses = [
        attempt(client, f"guess{n}@example.com", "Summer2026!").status_code for n in range(8)
    ]
    assert statuses == [401] * 8
    refused = attempt(client, "guess9@example.com", "Summer2026!")
    assert refused.status_code == 429
    assert "Too many sign-in attempts" in refused.get_data(as_text=True)
    # Even the right password waits: the address is over its limit, whoever it claims to be.
    assert attempt(client, agent.email, agent.password).status_code == 429
    assert attempt(client, agent.email, agent.password, address=at(769)).status_code == 302


def test_failures_from_many_addresses_slow_an_account_down_growing(app, client, agent):
    for n in range(5):  # the free failures, each from another address
        assert attempt(client, agent.email, "wrong", at(n)).status_code == 401
    assert attempt(client, agent.email, "wrong", at(562)).status_code == 401
    delayed = attempt(client, agent.email, agent.password, at(563))
    assert delayed.status_code == 429  # the right password too: nothing is checked now
    assert "Try again in 1 s." in delayed.get_data(as_text=True)
    assert int(delayed.headers["Retry-After"]) >= 1
    gevent.sleep(1.1)
    assert attempt(client, agent.email, "wrong", at(564)).status_code == 401
    again = attempt(client, agent.email, "x", at(565))
    assert "Try again in 2 s." in again.get_data(as_text=True)  # the delay doubled
    # An unknown address is slowed just the same: the delay tells no one who has an account.
    for n in range(6):
        attempt(client, "nobody@example.com", "wrong", at(0x100 + n))
    assert attempt(client, "nobody@example.com", "x", at(777)).status_code == 429


def test_the_agents_own_browser_is_never_kept_out_by_someone_elses_failures(app, agent):
    own_browser, attacker = app.test_client(), app.test_client()
    again = attempt(own_browser, agent.email, agent.password)
    assert again.status_code == 302, again.get_data(as_text=True)
    own_browser.post("/dashboard/logout")  # signed out, the browser is still known
    with own_browser.session_transaction() as session:
        session.clear()
    for n in range(8):
        attempt(attacker, agent.email, "wrong", at(n))
    assert attempt(attacker, agent.email, agent.password, at(611)).status_code == 429
    again = attempt(own_browser, agent.email, agent.password)
    assert again.status_code == 302, again.get_data(as_text=True)
    # Signing in forgave the failures: the next stranger is not made to wait either.
    assert attempt(attacker, agent.email, agent.password, at(610)).status_code == 302


def test_a_forged_known_device_cookie_does_not_skip_the_delay(app, agent):
    attacker = app.test_client()
    for n in range(7):
        attempt(attacker, agent.email, "wrong", at(n))
    attacker.set_cookie("devtone_known_agent", "Im1hcmlhQGV4YW1wbGUuY29tIg.forged", path="/")
    assert attempt(attacker, agent.email, agent.password, at(609)).status_code == 429


def test_checking_a_password_lets_the_rest_of_the_worker_run(app, agent):
    """scrypt runs in gevent's threadpool: a greenlet ticking meanwhile keeps ticking (on
    the event loop it would not tick once until the check is over)."""
    ticks = []

    def ticker():
        while True:
            ticks.append(1)
            gevent.sleep(0.001)

    def sign_in():
        with app.app_context():
            ticks.clear()
            found = agents.authenticate(agent.email, AGENT_PASSWORD)
            return found, len(ticks)

    clock = gevent.spawn(ticker)
    try:
        found, ticked = gevent.spawn(sign_in).get(timeout=10)
    finally:
        clock.kill()
    assert found is not None and found.id == agent.id
    assert ticked > 0

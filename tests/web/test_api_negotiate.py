"""GET /api/realtime/negotiate: the tiers and timings, all from config."""

from devtone import create_app


def test_negotiate_offers_every_tier_with_the_default_timings(client):
    answer = client.get("/api/realtime/negotiate")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["tiers"] == ["sse", "longpoll", "poll"]
    assert body["timings"] == {
        "hello_timeout_ms": 10000,
        "heartbeat_ms": 200,  # the test app's shortened heartbeat
        "watchdog_heartbeats": 2.5,
        "longpoll_wait_s": 25,
        "poll_interval_ms": 30000,
        "backoff": {"initial_ms": 1000, "max_ms": 30000, "jitter": 0.2},
    }


def test_an_operator_can_switch_sse_off_and_shorten_every_timing(monkeypatch, tmp_path):
    for key, value in {
        "DEVTONE_TIERS": "longpoll,poll",
        "DEVTONE_SSE_HELLO_TIMEOUT": "1.5",
        "DEVTONE_SSE_HEARTBEAT": "0.5",
        "DEVTONE_LONGPOLL_WAIT": "3",
        "DEVTONE_POLL_INTERVAL": "2",
        "DEVTONE_BACKOFF_INITIAL_MS": "100",
        "DEVTONE_BACKOFF_MAX_MS": "800",
        "DEVTONE_INSTANCE_PATH": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    body = create_app().test_client().get("/api/realtime/negotiate").get_json()
    assert body["tiers"] == ["longpoll", "poll"]
    assert body["timings"]["hello_timeout_ms"] == 1500
    assert body["timings"]["heartbeat_ms"] == 500
    assert body["timings"]["longpoll_wait_s"] == 3
    assert body["timings"]["poll_interval_ms"] == 2000
    assert body["timings"]["backoff"] == {"initial_ms": 100, "max_ms": 800, "jitter": 0.2}

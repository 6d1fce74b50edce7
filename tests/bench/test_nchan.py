"""nchan as a reference: its nginx.conf stays in the work folder; its events carry our keys."""

from pathlib import Path

from bench.adapters import NchanAdapter, seq_of
from bench.nchan import BUFFER_LENGTH, nchan_config, nchan_missing, nchan_module
from bench.wire import Event

MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")


def config(tmp_path: Path, root: bool = False) -> str:
    return nchan_config(MODULE, tmp_path, 41234, 2_064, root)


def test_the_config_loads_the_module_and_runs_one_worker_on_a_loopback_port(tmp_path):
    text = config(tmp_path)

    assert f"load_module {MODULE};" in text
    assert "worker_processes 1;" in text
    assert "listen 127.0.0.1:41234" in text
    assert "worker_connections 2064;" in text


def test_every_path_nginx_writes_is_inside_the_work_folder(tmp_path):
    text = config(tmp_path)

    assert f"pid {tmp_path / 'nginx.pid'};" in text
    assert f"error_log {tmp_path / 'error.log'}" in text
    assert f"client_body_temp_path {tmp_path / 'tmp' / 'client_body'};" in text
    assert "/var/" not in text


def test_it_publishes_and_subscribes_over_eventsource_and_long_poll(tmp_path):
    text = config(tmp_path)

    assert "nchan_publisher;" in text
    assert "nchan_subscriber eventsource;" in text
    assert "nchan_subscriber longpoll;" in text
    # Long-poll readers fetch between requests what was published meanwhile: a 500 msg/s
    # phase on 500 conversations is ~10 messages per conversation in its window.
    assert f"nchan_message_buffer_length {BUFFER_LENGTH};" in text
    assert BUFFER_LENGTH >= 100


def test_only_long_poll_requests_time_out_not_the_event_streams(tmp_path):
    text = config(tmp_path)
    longpoll = text[text.index("location ~ ^/lp/") :]

    assert text.count("nchan_subscriber_timeout") == 1
    assert "nchan_subscriber_timeout 25s;" in longpoll[: longpoll.index("}")]


def test_as_root_the_worker_keeps_roots_user_to_use_the_work_folder(tmp_path):
    assert "user root;" in config(tmp_path, root=True)
    assert "user " not in config(tmp_path, root=False)


def test_without_the_module_nchan_is_skipped_with_the_package_to_install(tmp_path, monkeypatch):
    assert nchan_module((tmp_path,)) is None
    monkeypatch.setattr("bench.nchan.MODULE_DIRS", (tmp_path,))

    assert "libnginx-mod-nchan" in (nchan_missing() or "")


def test_the_key_travels_at_the_front_of_the_data():
    adapter = NchanAdapter("127.0.0.1", 80, "run")

    assert adapter.key_of(Event("message", "1796609907:0", b'{"seq":12,"body":"hi"}')) == 12
    assert adapter.key_of(Event("message", "1796609907:1", b"something else")) is None
    assert seq_of(b'{"seq":7}') == 7

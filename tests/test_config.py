"""Settings: safe defaults, typed casts, errors that name the key, a factory without I/O."""

import secrets

import pytest

from devtone import config, create_app, secret_key


def test_defaults_need_no_environment(tmp_path):
    settings = config.load({}, str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/devtone.sqlite3"
    assert settings["SSE_HEARTBEAT"] == 15
    assert settings["TIERS"] == ("sse", "longpoll", "poll")
    assert settings["MAX_CONTENT_LENGTH"] == 16 * 1024
    assert len(settings["SECRET_KEY"]) == 64


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DEVTONE_SSE_HEARTBEAT", "abc"),
        ("DEVTONE_SSE_HEARTBEAT", "0"),
        ("DEVTONE_DB_POOL_SIZE", "two"),
        ("DEVTONE_PORT", "50x"),
        ("DEVTONE_TIERS", "sse,websocket"),
        ("DEVTONE_TIERS", ""),
        ("DEVTONE_BACKOFF_INITIAL_MS", "-5"),
        ("DEVTONE_LONGPOLL_WAIT", "2.5"),
        ("DEVTONE_LONGPOLL_WAIT", "31"),
        ("DEVTONE_DB_CONNECT_TIMEOUT", "1.5"),
        ("DEVTONE_DB_STATEMENT_TIMEOUT", "0"),
        ("DEVTONE_DB_POOL_TIMEOUT", "soon"),
        ("DEVTONE_REDIS_TIMEOUT", "-1"),
        ("DEVTONE_TEAM_NAME", "   "),
        ("DEVTONE_TEAM_NAME", "x" * 81),
    ],
)
def test_a_bad_setting_fails_at_start_naming_its_key(tmp_path, key, value):
    with pytest.raises(config.ConfigError, match=key):
        config.load({key: value}, str(tmp_path))


@pytest.mark.parametrize(
    ("key", "value"),
    [("DEVTONE_TRUSTED_PROXIES", "10.0.0.0/33"), ("DEVTONE_TRUSTED_PROXIES", "nginx"),
     ("DEVTONE_PROXY_HOPS", "-1")],
)  # fmt: skip
def test_a_bad_proxy_setting_fails_at_start_naming_its_key(tmp_path, key, value):
    with pytest.raises(config.ConfigError, match=key):
        config.load({key: value}, str(tmp_path))


def test_trusted_proxies_are_loopback_unless_the_operator_names_them(tmp_path):
    assert [str(n) for n in config.load({}, str(tmp_path))["TRUSTED_PROXIES"]] == [
        "127.0.0.0/8",
        "::1/128",
    ]
    named = config.load({"DEVTONE_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16"}, str(tmp_path))
    assert [str(n) for n in named["TRUSTED_PROXIES"]] == ["10.0.0.5/32", "192.168.0.0/16"]


def test_the_team_name_greets_visitors_as_the_operator_wrote_it(tmp_path):
    assert config.load({}, str(tmp_path))["TEAM_NAME"] is None  # the page says "Support"
    named = config.load({"DEVTONE_TEAM_NAME": "  Acme   help desk "}, str(tmp_path))
    assert named["TEAM_NAME"] == "Acme help desk"


def test_tiers_keep_the_negotiators_order(tmp_path):
    settings = config.load({"DEVTONE_TIERS": "poll, sse"}, str(tmp_path))
    assert settings["TIERS"] == ("sse", "poll")


def test_the_secret_written_by_init_db_is_kept_across_starts(tmp_path):
    assert secret_key.write(str(tmp_path)) is True
    assert secret_key.write(str(tmp_path)) is False
    first = config.load({}, str(tmp_path))["SECRET_KEY"]
    assert config.load({}, str(tmp_path))["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_without_a_stored_secret_each_start_gets_a_random_one(tmp_path):
    assert (
        config.load({}, str(tmp_path))["SECRET_KEY"] != config.load({}, str(tmp_path))["SECRET_KEY"]
    )


def test_create_app_needs_no_services(monkeypatch, tmp_path):
    # Nothing listens on port 9; a factory that connected would fail here.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg2://")
    assert not (tmp_path / "instance").exists()


def test_overrides_rebuild_the_pool_options(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x", "DB_POOL_SIZE": 2})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 2
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["max_overflow"] == 0


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"]
)
def test_postgresql_urls_use_psycopg2_which_psycogreen_patches(tmp_path, url):
    settings = config.load({"DATABASE_URL": url}, str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@h/db"


def test_postgresql_connections_carry_connect_and_statement_timeouts(tmp_path):
    settings = config.load(
        {
            "DATABASE_URL": "postgresql://u@h/db?options=-c%20search_path%3Dchat",
            "DEVTONE_DB_CONNECT_TIMEOUT": "4",
            "DEVTONE_DB_STATEMENT_TIMEOUT": "1.5",
            "DEVTONE_DB_POOL_TIMEOUT": "2",
        },
        str(tmp_path),
    )
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_timeout"] == 2
    # The URL's own options are kept: connect_args would otherwise replace them.
    assert options["connect_args"] == {
        "connect_timeout": 4,
        "options": "-c search_path=chat -c statement_timeout=1500",
    }


def test_a_hung_database_costs_a_request_seconds_by_default(tmp_path):
    settings = config.load({"DATABASE_URL": "postgresql://u@h/db"}, str(tmp_path))
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_timeout"] == 10
    assert options["connect_args"] == {"connect_timeout": 2, "options": "-c statement_timeout=2000"}


def test_the_rate_limit_counters_in_redis_wait_briefly_and_never_retry(tmp_path):
    settings = config.load(
        {"REDIS_URL": "redis://127.0.0.1:6379/0", "DEVTONE_REDIS_TIMEOUT": "0.5"}, str(tmp_path)
    )
    options = settings["RATELIMIT_STORAGE_OPTIONS"]
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 0.5
    assert options["retry"].get_retries() == 0
    assert config.load({}, str(tmp_path))["RATELIMIT_STORAGE_OPTIONS"] == {}


def test_a_backoff_cap_below_its_start_is_refused(tmp_path):
    with pytest.raises(config.ConfigError, match="DEVTONE_BACKOFF_MAX_MS"):
        config.load(
            {"DEVTONE_BACKOFF_INITIAL_MS": "5000", "DEVTONE_BACKOFF_MAX_MS": "1000"},
            str(tmp_path),
        )


def test_sign_in_limits_are_counted_in_redis_per_deployment(tmp_path):
    settings = config.load(
        {"REDIS_URL": "redis://127.0.0.1:6379/0", "DEVTONE_REDIS_CHANNEL": "shop-a"},
        str(tmp_path),
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings["RATELIMIT_KEY_PREFIX"] == "shop-a"
    alone = config.load({}, str(tmp_path))
    assert alone["RATELIMIT_STORAGE_URI"] == "memory://"


# -- production mode --------------------------------------------------------------------

# What `secrets.token_hex(32)` made once: a key the operator chose at random.
STRONG_SECRET = "9f2c4e71b8d03a56e1c7f0b94d2a68e35b0f17c9a4e2d8b6037f1e5c9a2b4d86"


def test_the_default_mode_is_development_with_cookies_for_plain_http(tmp_path):
    settings = config.load({}, str(tmp_path))
    assert settings["ENVIRONMENT"] == "development"
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_cookies_are_secure_unless_the_operator_says_otherwise(tmp_path):
    production = {"DEVTONE_ENV": "production", "SECRET_KEY": STRONG_SECRET}
    settings = config.load(production, str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    relaxed = config.load({**production, "DEVTONE_SECURE_COOKIES": "0"}, str(tmp_path))
    assert relaxed["SESSION_COOKIE_SECURE"] is False


def test_an_unknown_mode_stops_the_start_naming_the_key(tmp_path):
    with pytest.raises(config.ConfigError, match="DEVTONE_ENV"):
        config.load({"DEVTONE_ENV": "staging"}, str(tmp_path))


def test_production_refuses_the_default_secret_key(monkeypatch, tmp_path):
    # Even with a secret in the instance folder: every host would have its own.
    assert secret_key.write(str(tmp_path / "instance"))
    monkeypatch.setenv("DEVTONE_ENV", "production")
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set"):
        create_app()


@pytest.mark.parametrize("weak", ["", "dev", "change-me", "x" * 31])
def test_production_refuses_an_empty_or_short_secret_key(tmp_path, weak):
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load({"DEVTONE_ENV": "production", "SECRET_KEY": weak}, str(tmp_path))


# Long enough, but little to guess: one character, a short pattern repeated, a word.
PREDICTABLE_SECRETS = {
    "spaces": " " * 32,
    "one character": "x" * 64,
    "two characters": "ab" * 16,
    "a short pattern": "abcd" * 8,
    "the hex digits in turn": "0123456789abcdef" * 4,
    "a word": "password" * 4,
    "another word": "changeme" * 5,
    "mostly zeros": "0" * 32 + "9f2c4e71",
}


@pytest.mark.parametrize("weak", PREDICTABLE_SECRETS.values(), ids=PREDICTABLE_SECRETS.keys())
def test_production_refuses_a_long_but_predictable_secret_key_saying_how_to_make_one(
    tmp_path, weak
):
    with pytest.raises(config.ConfigError) as refused:
        config.load({"DEVTONE_ENV": "production", "SECRET_KEY": weak}, str(tmp_path))
    message = str(refused.value)
    assert "SECRET_KEY is too predictable" in message
    assert "secrets.token_hex(32)" in message
    assert weak not in message  # a key, even a bad one, stays out of logs


@pytest.mark.parametrize(
    "make",
    [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32)],
    ids=["hex", "urlsafe"],
)
def test_production_accepts_every_key_python_makes_as_the_message_says(tmp_path, make):
    # Many draws: the estimate must not refuse an unlucky random key.
    for _ in range(500):
        secret = make()
        settings = config.load({"DEVTONE_ENV": "production", "SECRET_KEY": secret}, str(tmp_path))
        assert settings["SECRET_KEY"] == secret


def test_production_starts_with_a_strong_secret_key_and_reads_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv("DEVTONE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG_SECRET
    assert not (tmp_path / "instance").exists()


def test_development_keeps_its_instance_secret_without_a_secret_key(tmp_path):
    settings = config.load({"DEVTONE_ENV": "development"}, str(tmp_path))
    assert len(settings["SECRET_KEY"]) == 64


# -- password reset and e-mail ------------------------------------------------------------

MAIL = {"DEVTONE_SMTP_URL": "smtps://mail.example.com", "DEVTONE_MAIL_FROM": "a@example.com"}


def test_e_mail_is_off_and_reset_links_last_an_hour_by_default(tmp_path):
    settings = config.load({}, str(tmp_path))
    assert (settings["SMTP_URL"], settings["MAIL_FROM"], settings["PUBLIC_URL"]) == (None,) * 3
    assert settings["RESET_LINK_LIFETIME"] == 3600
    assert settings["RESET_RATE_LIMIT"] == "5 per minute;30 per hour"
    assert settings["RESET_EMAIL_RATE_LIMIT"] == "3 per hour"


def test_e_mail_settings_are_read_from_the_environment(tmp_path):
    settings = config.load(
        {
            "DEVTONE_SMTP_URL": "smtp+starttls://bot%40example.com:s3cret@mail.example.com",
            "DEVTONE_MAIL_FROM": "Support <support@example.com>",
            "DEVTONE_SMTP_TIMEOUT": "2.5",
            "DEVTONE_PUBLIC_URL": "https://support.example.com/",
            "DEVTONE_RESET_LINK_LIFETIME": "900",
        },
        str(tmp_path),
    )
    assert settings["MAIL_FROM"] == "Support <support@example.com>"
    assert settings["SMTP_TIMEOUT"] == 2.5
    assert settings["PUBLIC_URL"] == "https://support.example.com"
    assert settings["RESET_LINK_LIFETIME"] == 900


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DEVTONE_SMTP_URL", "http://mail.example.com"),
        ("DEVTONE_SMTP_URL", "smtp://"),
        ("DEVTONE_SMTP_URL", "smtp://mail.example.com:99999"),
        ("DEVTONE_SMTP_URL", "smtp://mail.example.com/inbox"),
        ("DEVTONE_MAIL_FROM", "not an address"),
        ("DEVTONE_MAIL_FROM", "a@example.com\r\nBcc: everyone@example.com"),
        ("DEVTONE_PUBLIC_URL", "support.example.com"),
        ("DEVTONE_PUBLIC_URL", "https://support.example.com/devtone"),
        ("DEVTONE_SMTP_TIMEOUT", "0"),
        ("DEVTONE_RESET_LINK_LIFETIME", "an hour"),
        ("DEVTONE_RESET_RATE_LIMIT", "often"),
        ("DEVTONE_RESET_EMAIL_RATE_LIMIT", "3 per fortnight"),
    ],
)
def test_a_bad_mail_or_reset_setting_fails_at_start_naming_its_key(tmp_path, key, value):
    with pytest.raises(config.ConfigError, match=key):
        config.load({**MAIL, key: value}, str(tmp_path))


def test_the_password_in_a_bad_smtp_url_stays_out_of_the_error(tmp_path):
    with pytest.raises(config.ConfigError) as refused:
        config.load({**MAIL, "DEVTONE_SMTP_URL": "smtp://bot:hunter2@mail:port"}, str(tmp_path))
    assert "hunter2" not in str(refused.value)


def test_an_smtp_server_without_a_sender_is_refused_naming_both_keys(tmp_path):
    with pytest.raises(config.ConfigError, match="DEVTONE_SMTP_URL.*DEVTONE_MAIL_FROM"):
        config.load({"DEVTONE_SMTP_URL": "smtp://127.0.0.1"}, str(tmp_path))


def test_production_e_mail_needs_the_public_url_its_links_point_at(tmp_path):
    production = {"DEVTONE_ENV": "production", "SECRET_KEY": STRONG_SECRET, **MAIL}
    with pytest.raises(config.ConfigError, match="DEVTONE_PUBLIC_URL"):
        config.load(production, str(tmp_path))
    public = {**production, "DEVTONE_PUBLIC_URL": "https://support.example.com"}
    assert config.load(public, str(tmp_path))["PUBLIC_URL"] == "https://support.example.com"
    assert config.load({**production, "DEVTONE_SMTP_URL": ""}, str(tmp_path))["SMTP_URL"] is None

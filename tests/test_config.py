"""Configuration: every key's range, sources, environment overrides, and the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from lettr_cli.settings import KEYS

# key: (accepted raw -> typed value, refused raw values)
RANGES: dict[str, tuple[dict[str, object], list[str]]] = {
    "smtp.host": (
        {
            "mail.example.com": "mail.example.com",
            "MAIL.Example.COM.": "mail.example.com",
            "127.0.0.1": "127.0.0.1",
            "bücher.example": "bücher.example",
        },
        ["bad host", "-lead.example.com", "a" * 64 + ".example.com", "x\r\ny"],
    ),
    "smtp.port": ({"1": 1, "587": 587, "65535": 65535}, ["0", "65536", "-1", "abc", "5.5"]),
    "smtp.security": ({"starttls": "starttls", "TLS": "tls", "none": "none"}, ["ssl", ""]),
    "smtp.username": (
        {"apikey": "apikey", "ann@example.com": "ann@example.com"},
        ["ann\r\nRCPT TO:<x@example.com>", "tab\there"],
    ),
    "smtp.timeout": ({"1": 1, "60": 60}, ["0", "-5", "ten"]),
    "smtp.data_timeout": ({"1": 1, "600": 600}, ["0", "x"]),
    "sending.concurrency": ({"1": 1, "64": 64}, ["0", "65", "four"]),
    "sending.rate": ({"0": 0, "12.5": 12.5, "100": 100}, ["-1", "nan", "inf", "fast"]),
    "sending.max_per_connection": ({"1": 1, "1000": 1000}, ["0", "-3"]),
    "sending.max_attempts": ({"1": 1, "20": 20}, ["0", "21"]),
    "sending.retry_base_seconds": ({"0": 0, "120": 120}, ["-1", "soon"]),
    "sending.retry_max_seconds": ({"3600": 3600, "86400": 86400}, ["-1", "59"]),
    "sending.drain_seconds": ({"0": 0, "30": 30}, ["-1", "1.5"]),
    "sending.paused": (
        {"true": True, "YES": True, "1": True, "false": False, "no": False, "0": False},
        ["maybe", "2", ""],
    ),
    "tracking.base_url": (
        {
            "https://t.example.com": "https://t.example.com",
            "https://t.example.com/lettr/": "https://t.example.com/lettr",
            "http://127.0.0.1:8025": "http://127.0.0.1:8025",
            "http://localhost:9000": "http://localhost:9000",
            "http://[::1]:8025": "http://[::1]:8025",
        },
        [
            "http://t.example.com",
            "ftp://t.example.com",
            "t.example.com",
            "https://t.example.com/?a=1",
            "https://user:pw@t.example.com",
            "https://",
        ],
    ),
    "tracking.opens": ({"false": False, "true": True}, ["off"]),
    "tracking.clicks": ({"no": False, "yes": True}, ["on"]),
    "tracking.machine_open_seconds": ({"0": 0, "10": 10}, ["-1"]),
    "sender.postal_address": (
        {"1 Example Street\nSpringfield": "1 Example Street\nSpringfield", "": ""},
        ["bell\x07", "null\x00"],
    ),
    "sender.unsubscribe_mailto": (
        {"unsubscribe@example.com": "unsubscribe@example.com"},
        ["not-an-address", "a@b@example.com"],
    ),
    "sender.bounce_domain": (
        {"bounces.example.com": "bounces.example.com"},
        ["localhost", "10.0.0.1", "bad domain.com"],
    ),
    "plan.tier": (
        {"free": "free", "2000": "2000", "40000": "40000", "Enterprise": "enterprise"},
        ["1000", "pro", "50000"],
    ),
    "timezone": (
        {"Europe/Paris": "Europe/Paris", "UTC": "UTC", "America/New_York": "America/New_York"},
        ["Mars/Olympus", "CEST", "+02:00", "../etc/passwd", "Europe"],
    ),
    "store.durability": ({"normal": "normal", "FULL": "full"}, ["extra", "off"]),
    "store.busy_timeout": ({"1": 1, "120": 120}, ["0", "-1"]),
    "daemon.interval": ({"1": 1, "300": 300}, ["0", "minute"]),
    "optin.token_days": ({"1": 1, "7": 7, "365": 365}, ["0", "366", "week"]),
    "optin.confirm_on_get": ({"yes": True, "false": False}, ["sometimes"]),
    "optin.preferences_title": ({" Vos préférences ": "Vos préférences"}, ["", "a\nb"]),
    "optin.preferences_intro": ({"Choisissez.": "Choisissez."}, ["   ", "x" * 301]),
    "optin.preferences_save": ({"Enregistrer": "Enregistrer"}, ["tab\there"]),
    "optin.preferences_saved": ({"C'est noté.": "C'est noté."}, [""]),
    "optin.unsubscribe_all": ({"Me désabonner": "Me désabonner"}, ["bell\x07"]),
    "api.rate_limit": ({"0": 0, "3": 3}, ["-1", "fast"]),
    "api.auth_block": ({"true": True, "no": False}, ["maybe"]),
}


def test_every_key_has_range_cases() -> None:
    assert set(RANGES) == set(KEYS)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [(name, raw, value) for name, (good, _) in RANGES.items() for raw, value in good.items()],
)
def test_accepted_values_are_stored_in_canonical_form(lettr, name, raw, expected) -> None:
    result = lettr("config", "set", name, raw, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"key": name, "value": expected, "source": "store"}
    assert lettr("config", "get", name, "--json").json() == expected


@pytest.mark.parametrize(
    ("name", "raw"), [(name, raw) for name, (_, bad) in RANGES.items() for raw in bad]
)
def test_refused_values_leave_the_store_unchanged(lettr, name, raw) -> None:
    before = lettr("config", "show", "--json").json()
    result = lettr("config", "set", "--json", "--", name, raw)
    assert result.exit_code == 1
    body = result.error()
    assert body["error_code"] == "validation_error"
    assert name in body["errors"]
    assert lettr("config", "show", "--json").json() == before


def test_show_lists_every_key_with_value_and_source(lettr) -> None:
    lettr("config", "set", "smtp.host", "relay.example.com")
    items = lettr("config", "show", "--json").json()
    assert [item["key"] for item in items] == list(KEYS)
    assert all(set(item) == {"key", "value", "source"} for item in items)
    by_key = {item["key"]: item for item in items}
    assert by_key["smtp.host"] == {
        "key": "smtp.host",
        "value": "relay.example.com",
        "source": "store",
    }
    assert by_key["smtp.port"] == {"key": "smtp.port", "value": 587, "source": "default"}
    assert by_key["sending.paused"]["value"] is False
    assert by_key["sender.unsubscribe_mailto"]["value"] is None
    assert by_key["timezone"]["value"]  # the system zone, never empty


def test_show_in_words_is_a_table(lettr) -> None:
    out = lettr("config", "show").stdout
    assert "smtp.port" in out and "587" in out and "default" in out


def test_get_prints_the_bare_value_for_scripts(lettr) -> None:
    assert lettr("config", "get", "smtp.port").stdout == "587\n"
    assert lettr("config", "get", "smtp.host").stdout == "\n"
    assert lettr("config", "get", "tracking.opens").stdout == "true\n"
    assert lettr("config", "get", "smtp.host", "--json").stdout == "null\n"


def test_unset_brings_back_the_default(lettr) -> None:
    lettr("config", "set", "sending.concurrency", "12")
    result = lettr("config", "unset", "sending.concurrency", "--json")
    assert result.json() == {"key": "sending.concurrency", "value": 4, "source": "default"}
    assert lettr("config", "unset", "sending.concurrency").stdout == (
        "sending.concurrency = 4 (default)\n"
    )


def test_unknown_keys_are_refused_with_the_list_of_valid_ones(lettr) -> None:
    for args in (("get", "smtp.hots"), ("set", "smtp.hots", "x"), ("unset", "nope")):
        result = lettr("config", *args)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error [validation_error]: unknown configuration key")
        assert "smtp.host, smtp.port" in result.stderr


def test_retry_max_must_not_fall_below_retry_base(lettr) -> None:
    assert lettr("config", "set", "sending.retry_max_seconds", "30").exit_code == 1
    assert lettr("config", "set", "sending.retry_base_seconds", "7200").exit_code == 1
    assert lettr("config", "set", "sending.retry_base_seconds", "10").exit_code == 0
    assert lettr("config", "set", "sending.retry_max_seconds", "30").exit_code == 0
    # Unsetting the base would bring back 60 > 30.
    refused = lettr("config", "unset", "sending.retry_base_seconds", "--json")
    assert refused.exit_code == 1
    assert "sending.retry_max_seconds" in refused.error()["errors"]


def test_environment_overrides_the_store_for_one_process(lettr) -> None:
    lettr("config", "set", "smtp.host", "stored.example.com")
    env = {"LETTR_SMTP_HOST": "env.example.com", "LETTR_SENDING_MAX_PER_CONNECTION": "7"}
    items = {i["key"]: i for i in lettr("config", "show", "--json", env=env).json()}
    assert items["smtp.host"] == {"key": "smtp.host", "value": "env.example.com", "source": "env"}
    assert items["sending.max_per_connection"]["value"] == 7
    assert lettr("config", "get", "smtp.host").stdout == "stored.example.com\n"


def test_setting_a_key_the_environment_overrides_warns(lettr) -> None:
    result = lettr("config", "set", "smtp.port", "2525", "--json", env={"LETTR_SMTP_PORT": "25"})
    assert result.exit_code == 0
    assert result.json() == {"key": "smtp.port", "value": 25, "source": "env"}
    assert "LETTR_SMTP_PORT overrides the stored value" in result.stderr
    assert lettr("config", "get", "smtp.port").stdout == "2525\n"


def test_a_bad_environment_value_names_the_variable(lettr) -> None:
    result = lettr("config", "show", env={"LETTR_SENDING_CONCURRENCY": "lots"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error [validation_error]: environment variable LETTR_SENDING_CONCURRENCY for "
        "sending.concurrency: 'lots' is not a whole number\n"
    )


def test_the_password_is_never_stored_or_printed(lettr, isolated_home: Path) -> None:
    secret = "correct-horse-battery-staple"
    env = {"LETTR_SMTP_PASSWORD": secret}
    refused = lettr("config", "set", "smtp.password", secret, env=env)
    assert refused.exit_code == 1
    assert "LETTR_SMTP_PASSWORD" in refused.stderr
    outputs = [
        lettr("config", "show", env=env),
        lettr("config", "show", "--json", env=env),
        lettr("config", "set", "smtp.username", "apikey", env=env),
    ]
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    assert "LETTR_SMTP_PASSWORD" in outputs[0].stdout  # says that one is set, not what it is
    for path in isolated_home.iterdir():
        assert secret.encode() not in path.read_bytes()


def test_settings_give_typed_values_and_the_plan_limit(tmp_path: Path) -> None:
    from lettr_cli.settings import Settings

    settings = Settings({"plan.tier": "2000"}, {"LETTR_SMTP_PASSWORD": "pw"})
    assert settings.contact_limit == 2000
    assert Settings({"plan.tier": "enterprise"}, {}).contact_limit is None
    assert settings.integer("smtp.port") == 587
    assert settings.flag("tracking.opens") is True
    assert settings.smtp_password == "pw"


def test_plain_output_shows_times_in_the_configured_zone_and_json_stays_utc(lettr) -> None:
    assert lettr("config", "set", "timezone", "Asia/Tokyo").exit_code == 0
    assert lettr("contact", "add", "tz@example.org").exit_code == 0
    shown = lettr("contact", "show", "tz@example.org").stdout
    assert "+09:00" in shown
    created = lettr("contact", "show", "tz@example.org", "--json").json()["created_at"]
    assert created.endswith("+00:00")

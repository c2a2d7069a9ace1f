"""Configuration keys: defaults, ranges, parsing, and where each value comes from.

A value comes from the environment (``LETTR_<KEY>``, for one process), else the store (shared by
every process that opens it), else its default (CONTRACT "Configuration"). Secrets never enter the
store: the SMTP password is read from ``LETTR_SMTP_PASSWORD`` only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from lettr_cli.errors import ValidationError
from lettr_cli.settings.values import (
    PHRASE_LIMIT,
    Invalid,
    Value,
    _address,
    _base_url,
    _boolean,
    _choice,
    _domain,
    _hostname,
    _integer,
    _number,
    _phrase,
    _single_line,
    _text,
    _timezone,
    find_zone,
    is_loopback_host,
    system_timezone,
)

__all__ = [  # what other parts use; the readers of values stay in ``values``
    "KEYS", "PASSWORD_ENV", "PHRASE_LIMIT", "PLAN_LIMITS", "Invalid", "Key", "Problem",
    "Setting", "Settings", "Source", "Value", "check_consistent", "find_zone",
    "is_loopback_host", "key", "system_timezone", "to_text",
]  # fmt: skip

Source = Literal["default", "store", "env"]
PASSWORD_ENV = "LETTR_SMTP_PASSWORD"  # noqa: S105 (the name of a variable, not a secret)

PLAN_LIMITS: dict[str, int | None] = {
    "free": 500,
    "2000": 2000,
    "5000": 5000,
    "10000": 10000,
    "15000": 15000,
    "20000": 20000,
    "30000": 30000,
    "40000": 40000,
    "enterprise": None,
}


@dataclass(frozen=True)
class Key:
    name: str
    default: Value | Callable[[], Value]
    parse: Callable[[str], Value]
    meaning: str

    @property
    def env_var(self) -> str:
        return "LETTR_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())

    def default_value(self) -> Value:
        return self.default() if callable(self.default) else self.default

    def check(self, raw: str, origin: str) -> Value:
        try:
            return self.parse(raw)
        except Invalid as exc:
            raise ValidationError.field(self.name, f"{origin} {self.name}: {exc}") from None


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("smtp.host", None, _hostname, "the relay's host name"),
        Key("smtp.port", 587, _integer(1, 65535), "the relay's port"),
        Key(
            "smtp.security", "starttls", _choice("starttls", "tls", "none"), "TLS mode to the relay"
        ),
        Key("smtp.username", None, _single_line, "AUTH user (password: LETTR_SMTP_PASSWORD)"),
        Key("smtp.timeout", 60, _integer(1), "seconds per SMTP command"),
        Key(
            "smtp.data_timeout", 600, _integer(1), "seconds to wait for the reply to the final dot"
        ),
        Key("sending.concurrency", 4, _integer(1, 64), "SMTP connections"),
        Key("sending.rate", 0, _number(0), "messages per second, 0 = unlimited"),
        Key(
            "sending.max_per_connection",
            100,
            _integer(1),
            "messages before a connection is renewed",
        ),
        Key(
            "sending.max_attempts",
            5,
            _integer(1, 20),
            "attempts per recipient on temporary failures",
        ),
        Key("sending.retry_base_seconds", 60, _integer(0), "first retry delay, doubling"),
        Key("sending.retry_max_seconds", 3600, _integer(0), "longest retry delay"),
        Key("sending.drain_seconds", 10, _integer(0), "grace for in-flight messages on SIGTERM"),
        Key("sending.paused", False, _boolean, "the emergency brake: nothing new is claimed"),
        Key("tracking.base_url", "http://127.0.0.1:8025", _base_url, "base of tracked links"),
        Key("tracking.opens", True, _boolean, "track opens by default"),
        Key("tracking.clicks", True, _boolean, "track clicks by default"),
        Key("tracking.machine_open_seconds", 10, _integer(0), "opens this soon are machine opens"),
        Key("sender.postal_address", "", _text, "postal address in the automatic footer"),
        Key("sender.unsubscribe_mailto", None, _address, "adds a mailto to List-Unsubscribe"),
        Key("sender.bounce_domain", None, _domain, "envelope sender's domain (default: From's)"),
        Key("plan.tier", "free", _choice(*PLAN_LIMITS), "the contact limit"),
        Key("timezone", system_timezone, _timezone, "zone for naive times and display"),
        Key(
            "store.durability", "normal", _choice("normal", "full"), "full also survives power loss"
        ),
        Key("store.busy_timeout", 30, _integer(1), "seconds a write waits for another writer"),
        Key("daemon.interval", 60, _integer(1), "seconds between passes of daemon run"),
        Key(
            "api.rate_limit", 0, _integer(0), "API requests per second per client and key, 0 = off"
        ),
        Key("api.auth_block", False, _boolean, "block a client's key after 5 failed API logins"),
        Key("optin.token_days", 7, _integer(1, 365), "days a double opt-in link stays valid"),
        Key(
            "optin.confirm_on_get",
            False,
            _boolean,
            "a GET of a confirmation link confirms (no button; link scanners can confirm)",
        ),
        # The few texts of the preference centre, in the operator's language.
        Key("optin.preferences_title", "Email preferences", _phrase, "preference page title"),
        Key(
            "optin.preferences_intro",
            "Choose the emails you want to receive.",
            _phrase,
            "preference page: the line above the topics",
        ),
        Key("optin.preferences_save", "Save my choices", _phrase, "preference page: save button"),
        Key(
            "optin.preferences_saved",
            "Your choices are saved.",
            _phrase,
            "preference page: shown after saving",
        ),
        Key(
            "optin.unsubscribe_all",
            "Unsubscribe from all email",
            _phrase,
            "preference page: the unsubscribe button",
        ),
    )
}


def key(name: str) -> Key:
    """The key called ``name``; an unknown name is refused with the list of valid ones."""
    found = KEYS.get(name.strip().lower())
    if found is None:
        if name.strip().lower() in {"smtp.password", "smtp.pass"}:
            raise ValidationError.field(
                "key", f"the SMTP password is never stored: set {PASSWORD_ENV} in the environment"
            )
        raise ValidationError.field(
            "key", f"unknown configuration key '{name}'; valid keys: {', '.join(KEYS)}"
        )
    return found


def to_text(value: Value) -> str:
    """The canonical text of a value, as stored and as printed by ``config get``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Setting:
    key: str
    value: Value
    source: Source

    def to_json(self) -> dict[str, Value]:
        return {"key": self.key, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class Problem:
    """A configured value that does not fit its key (see ``Settings(strict=False)``)."""

    key: str
    source: Source
    raw: str
    message: str  # names the key and where the value came from


class Settings:
    """Effective configuration: each key's typed value and where it came from.

    A value that does not fit its key is refused with ``validation_error`` (``strict``, what
    every command wants). With ``strict=False`` (``lettr doctor``, which must report rather than
    stop), such a value is listed in ``problems`` and its key takes its default instead.
    """

    def __init__(
        self, stored: Mapping[str, str], environ: Mapping[str, str], *, strict: bool = True
    ) -> None:
        self._items: dict[str, Setting] = {}
        self.problems: list[Problem] = []
        for name, spec in KEYS.items():
            source: Source
            if spec.env_var in environ:
                raw, source = environ[spec.env_var], "env"
                origin = f"environment variable {spec.env_var} for"
            elif name in stored:
                raw, source, origin = stored[name], "store", "stored value of"
            else:
                self._items[name] = Setting(name, spec.default_value(), "default")
                continue
            try:
                self._items[name] = Setting(name, spec.check(raw, origin), source)
            except ValidationError as exc:
                if strict:
                    raise
                self.problems.append(Problem(name, source, raw, exc.message))
                self._items[name] = Setting(name, spec.default_value(), "default")
        try:
            check_consistent(self.values())
        except ValidationError as exc:
            if strict:
                raise
            for name in exc.errors or {}:
                setting = self._items[name]
                self.problems.append(
                    Problem(name, setting.source, to_text(setting.value), exc.message)
                )
        self.smtp_password: str | None = environ.get(PASSWORD_ENV) or None

    def __getitem__(self, name: str) -> Value:
        return self._items[key(name).name].value

    def setting(self, name: str) -> Setting:
        return self._items[key(name).name]

    def all(self) -> list[Setting]:
        return list(self._items.values())

    def values(self) -> dict[str, Value]:
        return {name: item.value for name, item in self._items.items()}

    def integer(self, name: str) -> int:
        value = self[name]
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def number(self, name: str) -> float:
        value = self[name]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        return value

    def flag(self, name: str) -> bool:
        value = self[name]
        assert isinstance(value, bool)
        return value

    def text(self, name: str) -> str | None:
        value = self[name]
        assert value is None or isinstance(value, str)
        return value

    @property
    def contact_limit(self) -> int | None:
        """Contacts allowed by ``plan.tier``; None for enterprise (no limit)."""
        return PLAN_LIMITS[str(self["plan.tier"])]


def check_consistent(values: Mapping[str, Value]) -> None:
    """Rules that tie two keys together."""
    base, top = values["sending.retry_base_seconds"], values["sending.retry_max_seconds"]
    assert isinstance(base, int) and isinstance(top, int)
    if top < base:
        message = (
            f"sending.retry_max_seconds ({top}) must be at least "
            f"sending.retry_base_seconds ({base})"
        )
        raise ValidationError(
            message,
            errors={
                "sending.retry_max_seconds": [message],
                "sending.retry_base_seconds": [message],
            },
        )

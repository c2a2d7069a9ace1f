"""An open store with its effective configuration: what every command and the wizard work on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from lettr_cli.errors import ValidationError
from lettr_cli.settings import (
    KEYS,
    Key,
    Setting,
    Settings,
    Value,
    check_consistent,
    key,
    to_text,
)
from lettr_cli.store.core_tables import config
from lettr_cli.store.engine import Store
from lettr_cli.store.location import StoreLocation
from lettr_cli.store.migrations import migrate

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass
class Workspace:
    store: Store
    environ: Mapping[str, str]
    home: Path
    schema_version: int
    strict: bool = True  # False: values that do not fit are listed, not refused (Settings)

    @classmethod
    def open(
        cls, db: StoreLocation, *, home: Path, environ: Mapping[str, str], strict: bool = True
    ) -> Workspace:
        """Open (creating and migrating when needed) the store at ``db``.

        ``home`` is ``$LETTR_HOME`` or the platform's data folder, resolved by the caller.
        ``strict=False`` opens even when configured values do not fit their keys: see
        ``Settings.problems``.
        """
        # Until the stored configuration can be read, the environment (or the default) decides
        # how long to wait for a writer and how hard to sync.
        store = Store(
            db,
            busy_timeout=float(
                _env_or_default(KEYS["store.busy_timeout"], environ, strict=strict) or 30
            ),
            durability=str(_env_or_default(KEYS["store.durability"], environ, strict=strict)),
        )
        try:
            version = migrate(store)
            workspace = cls(store, environ, home, version, strict)
            settings = workspace.settings()
            store.tune(
                busy_timeout=float(settings.integer("store.busy_timeout")),
                durability=str(settings["store.durability"]),
            )
        except BaseException:
            store.close()
            raise
        return workspace

    def settings(self) -> Settings:
        """The effective configuration, read fresh from the store."""
        with self.store.connect() as conn, conn.begin():
            stored = {row.key: row.value for row in conn.execute(select(config))}
        return Settings(stored, self.environ, strict=self.strict)

    def set_config(self, name: str, raw: str) -> Setting:
        """Validate and store one value; returns the effective setting (env may still win)."""
        from lettr_cli.store.tables import ConfigEntry
        from lettr_cli.store.types import utcnow

        spec = key(name)
        value = spec.check(raw, "value of")
        with self.store.write() as session:
            current = self._effective_values(session)
            current[spec.name] = value
            check_consistent(current)
            entry = session.get(ConfigEntry, spec.name)
            if entry is None:
                entry = ConfigEntry(key=spec.name, value=to_text(value))
            entry.value = to_text(value)
            entry.updated_at = utcnow()
            session.add(entry)
        return self.settings().setting(spec.name)

    def unset_config(self, name: str) -> Setting:
        """Remove a stored value so the default applies again (unless the environment sets it)."""
        from sqlmodel import col, delete

        from lettr_cli.store.tables import ConfigEntry

        spec = key(name)
        with self.store.write() as session:
            current = self._effective_values(session)
            current[spec.name] = spec.default_value()
            check_consistent(current)
            session.exec(delete(ConfigEntry).where(col(ConfigEntry.key) == spec.name))
        return self.settings().setting(spec.name)

    @staticmethod
    def _effective_values(session: Session) -> dict[str, Value]:
        stored = {row.key: row.value for row in session.execute(select(config))}
        # Consistency is judged on stored values and defaults, not on one process's environment.
        return dict(Settings(stored, {}).values())

    def close(self) -> None:
        self.store.close()


def _env_or_default(spec: Key, environ: Mapping[str, str], *, strict: bool = True) -> Value:
    raw = environ.get(spec.env_var)
    if raw is None:
        return spec.default_value()
    try:
        return spec.check(raw, f"environment variable {spec.env_var} for")
    except ValidationError:
        if strict:
            raise
        return spec.default_value()

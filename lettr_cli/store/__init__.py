"""The store: location, engine and sessions, migrations, table models."""

from lettr_cli.store.engine import Store, StoreUnavailable
from lettr_cli.store.location import STORE_FILENAME, parse_location
from lettr_cli.store.migrations import SCHEMA_VERSION, migrate

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "Store",
    "StoreUnavailable",
    "migrate",
    "parse_location",
]

"""Table models. The migrations create the tables; these classes only map them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from lettr_cli.store.types import UTCDateTime, utcnow


class ConfigEntry(SQLModel, table=True):
    """One stored configuration value, as canonical text (``settings`` parses it)."""

    __tablename__ = "config"

    key: str = Field(primary_key=True, max_length=64)
    value: str
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

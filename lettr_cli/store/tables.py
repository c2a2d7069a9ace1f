"""Table models. The migrations create the tables; these classes only map them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Column, Field, SQLModel

from lettr_cli.store.types import JSON_TYPE, UTCDateTime, new_id, utcnow


class ConfigEntry(SQLModel, table=True):
    """One stored configuration value, as canonical text (``settings`` parses it)."""

    __tablename__ = "config"

    key: str = Field(primary_key=True, max_length=64)
    value: str
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Property(SQLModel, table=True):
    __tablename__ = "properties"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True)
    type: str
    fallback_value: str | None = None
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"

    id: str = Field(default_factory=new_id, primary_key=True)
    email: str
    email_key: str = Field(unique=True)
    status: str = "subscribed"
    properties: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON_TYPE, nullable=False)
    )
    properties_folded: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON_TYPE, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ContactList(SQLModel, table=True):
    __tablename__ = "lists"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Topic(SQLModel, table=True):
    __tablename__ = "topics"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True)
    description: str | None = None
    default_subscription: str = "opt_in"
    visibility: str = "private"
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ListMember(SQLModel, table=True):
    __tablename__ = "list_members"

    list_id: str = Field(foreign_key="lists.id", primary_key=True, ondelete="CASCADE")
    contact_id: str = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    added_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class TopicMember(SQLModel, table=True):
    __tablename__ = "topic_members"

    topic_id: str = Field(foreign_key="topics.id", primary_key=True, ondelete="CASCADE")
    contact_id: str = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    added_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Activity(SQLModel, table=True):
    __tablename__ = "activity"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(foreign_key="contacts.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    kind: str
    detail: str


class Suppression(SQLModel, table=True):
    """An opt-out that outlives the contact's deletion (DESIGN "Decisions")."""

    __tablename__ = "suppressions"

    email_key: str = Field(primary_key=True)
    status: str
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Segment(SQLModel, table=True):
    """A saved audience: condition groups (OR inside, AND across), optionally within one list."""

    __tablename__ = "segments"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True)
    list_id: str | None = Field(default=None, foreign_key="lists.id")
    conditions: dict[str, Any] = Field(sa_column=Column(JSON_TYPE, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

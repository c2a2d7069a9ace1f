"""Table models. The migrations create the tables; these classes only map them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from lettr_cli.store import statuses
from lettr_cli.store.types import JSON_TYPE, UTCDateTime, new_id, utcnow


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for set-based SQL (the sending engine, bulk imports)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


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


class Template(SQLModel, table=True):
    __tablename__ = "templates"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(unique=True)
    active_version: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class TemplateVersion(SQLModel, table=True):
    __tablename__ = "template_versions"

    template_id: str = Field(foreign_key="templates.id", primary_key=True, ondelete="CASCADE")
    version: int = Field(primary_key=True)
    html_content: str
    text_content: str | None = None
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str
    status: str = statuses.DRAFT
    subject: str | None = None
    from_email: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    preview_text: str | None = None
    html_content: str | None = None
    text_content: str | None = None
    template_id: str | None = Field(default=None, foreign_key="templates.id", ondelete="SET NULL")
    template_version: int | None = None
    track_opens: bool = True
    track_clicks: bool = True
    audience: dict[str, Any] = Field(
        default_factory=lambda: {"all": False, "lists": [], "segments": []},
        sa_column=Column(JSON_TYPE, nullable=False),
    )
    scheduled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    total_recipients: int = 0
    sent_count: int = 0
    failure_reason: str | None = None
    injections: int = 0
    deliveries: int = 0
    bounces: int = 0
    spam_complaints: int = 0
    opens: int = 0
    unique_opens: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    unsubscribes: int = 0
    machine_opens: int = 0
    unique_machine_opens: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # Migration 11. Unsubscribes by method, beside ``unsubscribes`` (their sum), and the
    # property fallbacks in force when the campaign was prepared (null until then): its
    # messages, web versions and click targets are rendered with these.
    list_unsubscribes: int = 0
    link_unsubscribes: int = 0
    merge_fallbacks: dict[str, str | None] | None = Field(
        default=None, sa_column=Column(JSON_TYPE, nullable=True)
    )
    # Migration 15. The UTM tags of tracked links (``campaigns.utm``); null: not tagged.
    utm: dict[str, str | None] | None = Field(
        default=None, sa_column=Column(JSON_TYPE, nullable=True)
    )


# An unsubscribe method (CONTRACT "Tracking") and the campaign counter that counts it.
UNSUBSCRIBE_COUNTERS = {
    "list_unsubscribe": "list_unsubscribes",
    "link_unsubscribe": "link_unsubscribes",
}


class LinkClick(SQLModel, table=True):
    """How often one outbox row clicked one URL (migration 11). The report's top links add
    these up, so they survive the 30-day event archive; a row per (outbox row, URL)."""

    __tablename__ = "link_clicks"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaigns.id", ondelete="CASCADE")
    outbox_id: int
    url: str = Field(sa_column=Column(Text, nullable=False))
    clicks: int = 0


class TrackingKey(SQLModel, table=True):
    __tablename__ = "tracking_keys"

    kid: int = Field(primary_key=True)
    secret: str
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ApiKey(SQLModel, table=True):
    """A key of the HTTP API: only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str
    key_hash: str = Field(unique=True, max_length=64)
    scopes: str  # comma-separated, in SCOPES order
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DomainRow(SQLModel, table=True):
    """A sending domain: its DKIM key (none for ``--no-dkim``) and its last DNS check.

    ``last_check`` holds the records as the last ``verify`` judged them (type, name, value,
    status, detail); ``status`` is ``pending`` until the first check, then ``verified`` or
    ``failed``.
    """

    __tablename__ = "domains"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=253, unique=True)
    selector: str | None = Field(default=None, max_length=63)
    dkim: bool
    private_key: str | None = Field(default=None, repr=False)
    public_key: str | None = None
    spf_include: str | None = Field(default=None, max_length=253)
    status: str = Field(default="pending", max_length=16)
    last_check: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON_TYPE))
    checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class SentTestEmail(SQLModel, table=True):
    __tablename__ = "test_sends"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    email: str


class OutboxRow(SQLModel, table=True):
    """One recipient of a prepared campaign (DESIGN "Sending engine")."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_outbox_campaign_contact"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaigns.id", ondelete="CASCADE")
    contact_id: str
    email: str
    merge_values: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON_TYPE, nullable=False)
    )
    status: str = "queued"
    claim_token: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    injected_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    reply_class: str | None = None
    reply: str | None = None
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # Set once by the tracking server (migration 9): the unique counters count these.
    first_open_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    first_machine_open_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    first_click_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    unsubscribed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The worker that claimed the row, and its epoch then (migration 16).
    worker_id: str | None = None
    worker_epoch: int | None = None


class Worker(SQLModel, table=True):
    """A process driving a campaign (migration 16; ``delivery.workers``)."""

    __tablename__ = "workers"

    id: str = Field(primary_key=True)
    host: str
    pid: int
    epoch: int
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reaped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Lease(SQLModel, table=True):
    __tablename__ = "leases"

    campaign_id: str = Field(foreign_key="campaigns.id", primary_key=True, ondelete="CASCADE")
    holder: str | None = None
    pid: int | None = None
    host: str | None = None
    epoch: int = 0
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Event(SQLModel, table=True):
    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(default_factory=new_id, unique=True)
    campaign_id: str = Field(foreign_key="campaigns.id", ondelete="CASCADE")
    outbox_id: int | None = None
    contact_id: str | None = None
    email: str
    event_type: str
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    bounce_class: str | None = None
    reason: str | None = None
    target_link_url: str | None = None
    user_agent: str | None = None
    machine: bool = False


class SoftFailure(SQLModel, table=True):
    __tablename__ = "soft_failures"

    contact_id: str = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    failures: int
    last_campaign_id: str


class FeedbackMessage(SQLModel, table=True):
    """A feedback message (DSN, complaint, auto-reply) already imported."""

    __tablename__ = "feedback_messages"

    key: str = Field(primary_key=True, max_length=300)
    kind: str
    imported_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    outbox_id: int | None = None


class Confirmation(SQLModel, table=True):
    """A contact added with double opt-in and not confirmed yet: how its confirmation mail is
    sent (again), and when the last one went out. Gone once the contact confirms."""

    __tablename__ = "confirmations"

    contact_id: str = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    template: str = Field(max_length=255)
    from_email: str = Field(max_length=255)
    from_name: str | None = Field(default=None, max_length=255)
    subject: str = Field(max_length=998)
    redirect_url: str = Field(max_length=2048)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

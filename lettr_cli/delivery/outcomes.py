"""What a reply does to an outbox row and its contact: DESIGN's reply-class table as data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lettr_cli.delivery import outbox
from lettr_cli.settings import Settings
from lettr_cli.transport.replies import BOUNCE_CLASSES, ReplyClass
from lettr_cli.transport.smtp import Outcome

SOFT_FAILURES_TO_BOUNCE = 3


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.integer("sending.max_attempts"),
            base_seconds=settings.number("sending.retry_base_seconds"),
            max_seconds=settings.number("sending.retry_max_seconds"),
        )

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt, after ``attempts`` attempts (doubling, capped)."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Verdict:
    status: str
    next_attempt_at: datetime | None = None
    attempted: bool = True  # False for relay-level failures: no attempt is counted
    event: str | None = None  # "delivery" or "bounce"
    bounce_class: str | None = None
    bounces_contact: bool = False  # a hard bounce: the contact becomes `bounced`
    soft_for_contact: bool = False  # counts towards suppression (``counts_against_contact``)
    delivered: bool = False


def judge(outcome: Outcome, attempts: int, policy: RetryPolicy, now: datetime) -> Verdict:
    """The row's next state after ``outcome`` of its ``attempts``-th attempt."""
    kind = outcome.reply_class
    if kind is ReplyClass.DELIVERED:
        return Verdict(outbox.SENT, event="delivery", delivered=True)
    if kind is ReplyClass.RELAY or outcome.unanswered:
        # Nothing said about the recipient: back to the queue at once, no attempt counted (a
        # connection dropped before its MAIL FROM was answered is retried on a new one).
        return Verdict(outbox.QUEUED, attempted=False)
    if outcome.unsendable:
        return Verdict(outbox.FAILED, attempted=False)
    if kind is ReplyClass.UNKNOWN:
        return Verdict(outbox.IN_DOUBT)
    if kind is ReplyClass.SOFT:
        return _soft(outcome, attempts, policy, now)
    hard = kind is ReplyClass.HARD
    return Verdict(
        outbox.BOUNCED if hard else outbox.FAILED,
        event="bounce",
        bounce_class=BOUNCE_CLASSES[kind],
        bounces_contact=hard,
    )


def _soft(outcome: Outcome, attempts: int, policy: RetryPolicy, now: datetime) -> Verdict:
    per_recipient = outcome.counts_against_contact
    if attempts >= policy.max_attempts:
        return Verdict(outbox.FAILED, soft_for_contact=per_recipient)
    # A lost connection is retried at once on a new one; a soft reply waits its backoff.
    wait = 0.0 if outcome.connection_lost else policy.delay(attempts)
    return Verdict(
        outbox.QUEUED,
        next_attempt_at=now + timedelta(seconds=wait),
        soft_for_contact=per_recipient,
    )

"""What a foreground run's result means for the operator (CONTRACT "Sending, from the command
line"): parked in review, paused, its lease lost, only retries left, messages in doubt, the
relay or the campaign failed, or stopped by a signal. Plain data: every face says the same
words; the CLI turns ``exit_code`` (or ``error``) into its exit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lettr_cli.campaigns import lifecycle
from lettr_cli.delivery.observer import RunResult
from lettr_cli.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    CampaignNotSendable,
    LettrError,
    TransmissionFailed,
)

# Kinds of outcome, besides a campaign status (``sent``, or the status a run left it in).
IN_REVIEW = lifecycle.IN_REVIEW
PAUSED = "paused"
LEASE_LOST = "lease_lost"
RETRIES_WAITING = "retries_waiting"
FAILED = lifecycle.FAILED
RELAY_FAILED = "relay_failed"
STOPPED = "stopped"


@dataclass(frozen=True)
class Outcome:
    """``message`` says what happened (None when the status says it all, as for ``sent``);
    ``advice`` what to do about messages in doubt; ``error`` is the failure to report (a
    ``LettrError`` with its code) when the run failed; ``exit_code`` the CLI's exit for it."""

    kind: str
    message: str | None = None
    advice: str | None = None
    error: LettrError | None = None
    exit_code: int = EXIT_OK

    @property
    def lines(self) -> list[str]:
        """The message and the advice, those there are, in that order."""
        return [text for text in (self.message, self.advice) if text is not None]


@dataclass(frozen=True)
class Left:
    """A campaign as the store has it after a run stopped: its status and its outbox rows per
    state (CONTRACT "Objects": the campaign's ``outbox``)."""

    campaign_id: str
    status: str
    outbox: Mapping[str, int]


def in_doubt_advice(campaign_id: str, count: int, status: str) -> str:
    """What to do about ``count`` messages in doubt: the exact command that sends them again
    (``retry`` takes sent campaigns only)."""
    what = "1 message is" if count == 1 else f"{count} messages are"
    retry = f"`lettr campaign retry {campaign_id} --in-doubt` sends them again"
    when = "" if status == lifecycle.SENT else "once the campaign is sent, "
    return (
        f"{what} in doubt (the relay may have them): `lettr campaign show {campaign_id}` "
        f"lists them; {when}{retry}."
    )


def describe_stopped(left: Left, exit_code: int) -> Outcome:
    """After SIGINT or SIGTERM (``exit_code`` 130 or 143): what the drain left."""
    counts, status = left.outbox, left.status
    waiting = counts.get("queued", 0) + counts.get("claimed", 0)
    if status == lifecycle.SENT:
        message = "Stopped: nothing was left to send; the campaign is sent."
    elif waiting:
        message = (
            f"Stopped: {waiting} rows are still queued; `lettr daemon tick` finishes the send."
        )
    else:
        message = (
            f"Stopped while the campaign was {status}; `lettr daemon tick` goes on from there."
        )
    in_doubt = counts.get("in_doubt", 0)
    advice = in_doubt_advice(left.campaign_id, in_doubt, status) if in_doubt else None
    return Outcome(STOPPED, message, advice, exit_code=exit_code)


def describe_result(
    result: RunResult, *, signalled: int | None = None, left: Left | None = None
) -> Outcome:
    """What ``result`` means. After a signal (``signalled``: the exit code it asks for) the
    store's state ``left`` is described instead, since the drain may have moved it on."""
    if signalled is not None:
        if left is None:
            raise ValueError("a stopped run is described from the store's state (left)")
        return describe_stopped(left, signalled)
    if result.relay_failure is not None:
        error: LettrError = TransmissionFailed(
            f"{result.relay_failure}. Nothing was marked failed; the campaign resumes with "
            "`lettr daemon tick` once the relay works."
        )
        return Outcome(RELAY_FAILED, error.message, error=error, exit_code=EXIT_FAILURE)
    if result.status == lifecycle.FAILED:
        error = CampaignNotSendable(f"the campaign failed: {result.failure_reason}")
        return Outcome(FAILED, error.message, error=error, exit_code=EXIT_FAILURE)
    kind, message = result.status, None
    if result.status == lifecycle.IN_REVIEW:
        kind = IN_REVIEW
        message = (
            f"Parked in review: {result.failure_reason}. `lettr campaign approve "
            f"{result.campaign_id[:8]}` sends it; `lettr campaign reject` stops it."
        )
    elif result.paused:
        kind = PAUSED
        message = "Paused: sending.paused or the PAUSE file is set; nothing new was claimed."
    elif result.lease_lost:
        kind = LEASE_LOST
        message = "Another process took over this campaign's lease; it goes on sending it."
    elif result.status == lifecycle.SENDING:
        kind = RETRIES_WAITING
        with_retry = ""
        if result.retry_at is not None:
            with_retry = f" the next is due at {result.retry_at.isoformat(timespec='seconds')};"
        message = f"Only scheduled retries remain:{with_retry} `lettr daemon tick` finishes them."
    advice = None
    if result.in_doubt:
        advice = in_doubt_advice(result.campaign_id, result.in_doubt, result.status)
    return Outcome(kind, message, advice)

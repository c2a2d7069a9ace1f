"""The names of a campaign's statuses (DESIGN "Lifecycle"), and nothing else.

They live in the store, next to the ``campaigns`` table, so that parts below ``campaigns`` (such
as ``references``) can name them. Only ``lettr_cli.campaigns.lifecycle`` changes a campaign's
status; it re-exports these names, and every part above the store uses them rather than
literals.
"""

from __future__ import annotations

DRAFT = "draft"
SCHEDULED = "scheduled"
PREPARING = "preparing"
SENDING = "sending"
IN_REVIEW = "in_review"
SENT = "sent"
FAILED = "failed"
STATUSES = (DRAFT, SCHEDULED, PREPARING, SENDING, IN_REVIEW, SENT, FAILED)
# Campaigns that have not left draft for good: what they refer to (lists, templates, domains)
# cannot be deleted (``references``).
OPEN = (DRAFT, SCHEDULED)

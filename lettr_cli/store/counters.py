"""The names of a campaign's engagement counters (CONTRACT "Objects": ``stats``), and nothing
else: Lettr's nine plus the machine opens, in the order the campaign object shows them.

They live in the store, beside the ``campaigns`` table, so that the quick Core reads
(``core_tables``) name them without loading the ledger; the ledger, their one writer,
re-exports them.
"""

from __future__ import annotations

STAT_KEYS = (
    "injections", "deliveries", "bounces", "spam_complaints", "opens", "unique_opens",
    "clicks", "unique_clicks", "unsubscribes", "machine_opens", "unique_machine_opens",
)  # fmt: skip

"""Spreadsheet formula injection: the guard that export puts on cells, and import takes off.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may run as a formula
when a spreadsheet opens the file (OWASP ASVS 1.2.10, deliverability checklist R-SEC-CSV-4), so
export writes it with a leading ``'``, which spreadsheets read as "this is text". Plain numbers
(``-5``, ``+44``) are left alone: they are not formulas (DESIGN "Decisions").

Import takes one ``'`` off exactly where export put one, so every value survives a round trip:
a value that itself starts with ``'`` before such a character gets a second ``'`` on export.
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def needs_guard(value: str) -> bool:
    """Whether export must write ``value`` with a leading ``'``."""
    if value.startswith(TRIGGERS):
        return _PLAIN_NUMBER.fullmatch(value) is None
    # A leading ' before a guarded value must itself be kept apart from a guard.
    return value.startswith("'") and needs_guard(value[1:])


def guard(value: str) -> str:
    """The cell export writes for ``value``."""
    return "'" + value if needs_guard(value) else value


def unguard(cell: str) -> str:
    """The value import reads from ``cell``: the inverse of :func:`guard`."""
    if cell.startswith("'") and needs_guard(cell[1:]):
        return cell[1:]
    return cell

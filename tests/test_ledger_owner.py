"""One owner per rule (issue 14, item 2): only ``lettr_cli/ledger.py`` writes a campaign's
counters, the events table, a contact's status (its opt-outs) and the suppression table. The
store's migrations may shape them. This test reads every module of lettr_cli (its syntax tree, and
its SQL strings) and fails on a write anywhere else.

What counts as a write: an ``insert()``, ``update()`` or ``delete()`` of the ``events`` or
``suppressions`` table; an ``update()`` of ``contacts`` that sets ``status``, or of ``campaigns``
that sets a counter (or sets columns it does not name); a ``Suppression(…)`` or ``Event(…)``
built, or a suppression added to or deleted from a session; an assignment to a campaign's
counter attribute or to a contact's ``status``; and the same in SQL text. Creating a contact
with its first status (``contact add``, an import) is the audience's, not an opt-out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from lettr_cli.ledger import COUNTERS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lettr_cli"
# The ledger, and the schema steps (they may backfill old rows before any command runs).
OWNERS = {"lettr_cli/ledger.py", "lettr_cli/store/migrations.py"} | {
    f"lettr_cli/store/{step.name}" for step in (PACKAGE / "store").glob("schema_*.py")
}
ALWAYS_GUARDED = {"events", "suppressions"}
MODELS = {"Event": "events", "Suppression": "suppressions", "Contact": "contacts",
          "Campaign": "campaigns"}  # fmt: skip
_SQL = re.compile(
    r"\b(?:insert\s+into|update|delete\s+from)\s+(events|suppressions)\b"
    r"|\bupdate\s+contacts\s+set\b[^;]*\bstatus\s*="
    r"|\bupdate\s+campaigns\s+set\b[^;]*\b(" + "|".join(COUNTERS) + r")\s*=",
    re.IGNORECASE | re.DOTALL,
)


def _aliases(tree: ast.AST) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                found[target.id] = node.value
    return found


def _table(expr: ast.expr, aliases: dict[str, ast.expr], depth: int = 0) -> str | None:
    """The table an expression names: ``events``, ``outbox.events``, ``table_of(Event)``,
    ``table("events")``, ``metadata.tables["events"]``, or a name bound to one of them."""
    if depth > 5:
        return None
    if isinstance(expr, ast.Name):
        if expr.id in aliases:
            return _table(aliases[expr.id], aliases, depth + 1) or expr.id
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        return str(expr.slice.value)
    if isinstance(expr, ast.Call) and expr.args:
        arg = expr.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.Name):
            return MODELS.get(arg.id)
    return None


def _set_columns(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> set[str] | None:
    """The columns the statement built on ``call`` sets (``.values(...)`` above it in the
    chain); None when it sets columns it does not name (a dict built at run time)."""
    names: set[str] = set()
    node: ast.AST = call
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Attribute) and parent.attr == "values":
            values = parents.get(parent)
            if isinstance(values, ast.Call):
                names |= {kw.arg for kw in values.keywords if kw.arg is not None}
                if any(kw.arg is None for kw in values.keywords):
                    return None
                for arg in values.args:
                    if not isinstance(arg, ast.Dict):
                        return None
                    for key in arg.keys:
                        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                            return None
                        names.add(key.value)
        if not isinstance(parent, ast.Attribute | ast.Call):
            break
        node = parent
    return names


def violations(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    aliases = _aliases(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{where}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("insert", "update", "delete") and not node.args:
                table = _table(node.func.value, aliases)
                if table in ALWAYS_GUARDED:
                    report(node, f"{method}() of {table}")
                elif method == "update" and table in ("contacts", "campaigns"):
                    columns = _set_columns(node, parents)
                    guarded = {"status"} if table == "contacts" else set(COUNTERS)
                    if columns is None and table == "campaigns":
                        report(node, "update() of campaigns with columns named at run time")
                    elif columns is not None and columns & guarded:
                        report(node, f"update() of {table} sets {sorted(columns & guarded)}")
            if method in ("add", "delete", "merge") and len(node.args) == 1:
                arg = node.args[0]
                text = ast.unparse(aliases.get(arg.id, arg) if isinstance(arg, ast.Name) else arg)
                if "Suppression" in text:
                    report(node, f"session.{method}() of a suppression")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("Suppression", "Event")
        ):
            report(node, f"{node.func.id}(…) built")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for one in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(one, ast.Attribute):
                    owner = ast.unparse(one.value).lower()
                    if one.attr in COUNTERS and "campaign" in owner:
                        report(node, f"counter {one.attr} assigned")
                    elif one.attr == "status" and "contact" in owner:
                        report(node, "a contact's status assigned")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SQL.search(node.value)
        ):
            report(node, "SQL text that writes a ledger table")
    return found


def test_only_the_ledger_writes_counters_events_opt_outs_and_suppressions() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where not in OWNERS:
            found += violations(path.read_text(encoding="utf-8"), where)
    assert found == []


def test_the_scan_finds_each_kind_of_write() -> None:
    source = """
events = table_of(Event)
c = outbox.contacts
conn.execute(events.insert().values(x=1))
conn.execute(outbox.suppressions.delete())
conn.execute(c.update().where(c.c.id == 1).values(status="bounced", updated_at=now))
conn.execute(campaigns.update().values({"opens": campaigns.c.opens + 1}))
conn.execute(campaigns.update().values({name: 1 for name in names}))
conn.execute(table("suppressions").insert())
entry = session.get(Suppression, key)
session.delete(entry)
session.add(Suppression(email_key="a", status="bounced"))
campaign.sent_count += 1
contact.status = "unsubscribed"
conn.exec_driver_sql("UPDATE contacts SET updated_at = 1, status = 'bounced' WHERE id = 1")
conn.exec_driver_sql("insert into events (x) values (1)")
"""
    found = violations(source, "sample.py")
    assert sorted(int(line.split(":")[1]) for line in found) == [
        4, 5, 6, 7, 8, 9, 11, 12, 12, 13, 14, 15, 16
    ]  # fmt: skip


def test_the_scan_leaves_other_writes_alone() -> None:
    source = """
conn.execute(campaigns.update().values(status="sent", updated_at=now))
conn.execute(contacts.update().values(properties={}, updated_at=now))
conn.execute(contacts.insert().values(status="unsubscribed"))
conn.execute(link_clicks.update().values(clicks=link_clicks.c.clicks + 1))
campaign.status = "sent"
session.delete(contact)
"""
    assert violations(source, "sample.py") == []

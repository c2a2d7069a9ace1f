"""One owner of a campaign's status (issue 14, "One owner per rule"): nothing in lettr_cli but
``campaigns/lifecycle.py`` (and the store's migrations) changes ``campaigns.status``, whether by
assigning ``Campaign.status`` on an object, by a Core or ORM ``update`` of the campaigns table
that sets ``status``, or by raw SQL.

The scan reads the source (AST); what it calls "a campaign" is an expression whose text names a
campaign (``campaign.status``, ``outbox.campaigns``), directly or through a name assigned from
one (``c = outbox.campaigns`` … ``c.update()``) or annotated with one (``copy: Campaign``). The
control tests below show it catches each form."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import lettr_cli
from lettr_cli.campaigns import lifecycle
from lettr_cli.store import statuses

PACKAGE = Path(lettr_cli.__file__).parent
OWNERS = {
    Path("campaigns/lifecycle.py"),
    # Schema changes may rewrite old rows' statuses; they run before any command.
    Path("store/migrations.py"),
    *(Path("store") / step.name for step in (PACKAGE / "store").glob("schema_*.py")),
}
RAW_UPDATE = re.compile(r"\bupdate\s+campaigns\b.*\bset\b.*\bstatus\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


class _Scan(ast.NodeVisitor):
    def __init__(self, path: str, source: str, tree: ast.Module) -> None:
        self.path = path
        self.source = source
        self.findings: list[Finding] = []
        # Every name's assigned values and annotations in the file: enough to see that ``c``
        # in ``c.update()`` is the campaigns table, or ``copy`` a Campaign.
        self.aliases: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.aliases.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.aliases.setdefault(node.target.id, []).append(node.annotation)
                if node.value is not None:
                    self.aliases[node.target.id].append(node.value)
            elif isinstance(node, ast.arg) and node.annotation is not None:
                self.aliases.setdefault(node.arg, []).append(node.annotation)
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(
                node.target, ast.Name
            ):
                self.aliases.setdefault(node.target.id, []).append(node.iter)

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def names_a_campaign(self, node: ast.AST, depth: int = 0) -> bool:
        if "campaign" in self.text(node).lower():
            return True
        if depth < 3 and isinstance(node, ast.Name):
            return any(self.names_a_campaign(v, depth + 1) for v in self.aliases.get(node.id, []))
        return False

    def found(self, node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(self.path, line, f"{what}: {self.text(node)[:100]}"))

    def _status_target(self, target: ast.AST) -> None:
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "status"
            and self.names_a_campaign(target.value)
        ):
            self.found(target, "assigns a campaign's status")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            for each in target.elts if isinstance(target, ast.Tuple) else [target]:
                self._status_target(each)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._status_target(node.target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._status_target(node.target)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
            and self.names_a_campaign(node.args[0])
        ):
            self.found(node, "sets a campaign's status with setattr")
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("values", "update")
            and _sets_status(node)
            and self._updates_campaigns(node)
        ):
            self.found(node, "updates campaigns.status")
        self.generic_visit(node)

    def _updates_campaigns(self, call: ast.Call) -> bool:
        """The statement built by ``call`` is an update of the campaigns table: somewhere down
        its chain is ``X.update()``, ``update(X)`` or ``X.update({...})`` with X a campaign."""
        node: ast.AST = call
        while isinstance(node, (ast.Call, ast.Attribute)):
            if isinstance(node, ast.Call):
                f = node.func
                if (isinstance(f, ast.Attribute) and f.attr == "update") or (
                    isinstance(f, ast.Name) and f.id == "update"
                ):
                    bases = list(node.args[:1])
                    if isinstance(f, ast.Attribute):
                        bases.append(f.value)
                    return any(self.names_a_campaign(base) for base in bases)
                node = f
            else:
                node = node.value
        return False

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and RAW_UPDATE.search(node.value):
            self.found(node, "raw SQL updates campaigns.status")


def _sets_status(call: ast.Call) -> bool:
    if any(keyword.arg == "status" for keyword in call.keywords):
        return True
    for arg in call.args:
        if isinstance(arg, ast.Dict) and any(
            isinstance(key, ast.Constant) and key.value == "status" for key in arg.keys
        ):
            return True
    return False


def scan(path: str, source: str) -> list[Finding]:
    tree = ast.parse(source)
    visitor = _Scan(path, source, tree)
    visitor.visit(tree)
    return visitor.findings


def test_only_lifecycle_changes_a_campaigns_status() -> None:
    findings: list[Finding] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE)
        if relative in OWNERS:
            continue
        findings += scan(str(relative), file.read_text(encoding="utf-8"))
    assert not findings, "campaign status changed outside lifecycle.py:\n" + "\n".join(
        map(str, findings)
    )


def test_the_scan_catches_every_form_of_a_status_change() -> None:
    source = """
import sqlalchemy as sa
from lettr_cli.delivery import outbox

def engine_like(conn, campaign_id):
    c = outbox.campaigns
    conn.execute(c.update().where(c.c.id == campaign_id).values(status="sent"))

def orm_like(session, campaign):
    campaign.status = "failed"

def copied(original):
    copy: Campaign = make(original)
    copy.status = "draft"

def by_setattr(campaign):
    setattr(campaign, "status", "sent")

def core_function(conn):
    conn.execute(sa.update(campaigns_table).values({"status": "sent"}))

def query_update(session):
    session.query(Campaign).update({"status": "sent"})

RAW = "UPDATE campaigns SET status = 'sent' WHERE id = ?"
"""
    found = scan("sample.py", source)
    assert [f.line for f in found] == [7, 10, 14, 17, 20, 23, 25], "\n".join(map(str, found))


def test_the_scan_leaves_other_statuses_alone() -> None:
    source = """
def contact_like(contact, conn, domain):
    contact.status = "unsubscribed"
    domain.status = "failed"
    conn.execute(outbox.update().where(outbox.c.id == 1).values(status="sent"))
    conn.execute(contacts.update().values(status="bounced"))
    conn.execute(campaigns.update().values(sent_count=campaigns.c.sent_count + 1))
"""
    assert scan("sample.py", source) == []


def test_lifecycle_re_exports_the_store_s_status_names() -> None:
    assert lifecycle.STATUSES == statuses.STATUSES
    assert lifecycle.OPEN == (lifecycle.DRAFT, lifecycle.SCHEDULED)
    for name in ("DRAFT", "SCHEDULED", "PREPARING", "SENDING", "IN_REVIEW", "SENT", "FAILED"):
        assert getattr(lifecycle, name) == getattr(statuses, name)

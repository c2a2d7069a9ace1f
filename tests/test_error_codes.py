"""One table of error codes: ``lettr_cli.errors.ERROR_CODES`` is CONTRACT's table, and every code
lettr can raise is in it (issue 14, item 2).

Two nets catch a code invented elsewhere: every ``LettrError`` subclass, found after importing
every module of lettr_cli, and the source itself, read as Python, for a bare ``LettrError(...)``
(its code is the base class's placeholder), a ``code="..."`` keyword or a ``.code = "..."`` or
class-level ``code = "..."`` assignment of a literal outside errors.py.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import lettr_cli
from lettr_cli import errors
from lettr_cli.errors import ERROR_CODES, LettrError

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(lettr_cli.__file__).resolve().parent
CONTRACT = Path("/work/shared/CONTRACT.md")

# CONTRACT "Errors and exit codes", for a checkout without the shared CONTRACT.md beside it.
CONTRACT_CODES = (
    "validation_error",
    "not_found",
    "resource_already_exists",
    "resource_in_use",
    "campaign_not_editable",
    "campaign_not_sendable",
    "campaign_has_pending_schedule",
    "campaign_not_scheduled",
    "unconfigured_domain",
    "quota_exceeded",
    "rate_limit_exceeded",
    "transmission_failed",
    "confirmation_required",
    "store_too_new",
    "store_unavailable",
)


def contract_codes() -> tuple[str, ...]:
    """The codes of CONTRACT's table: parsed from CONTRACT.md when it is there."""
    if not CONTRACT.is_file():
        return CONTRACT_CODES
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Errors and exit codes", 1)[1].split("\n## ", 1)[0]
    codes = tuple(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert codes, "CONTRACT.md's error code table was not found"
    return codes


def all_subclasses(cls: type[LettrError]) -> set[type[LettrError]]:
    found: set[type[LettrError]] = set()
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def import_every_module() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(lettr_cli.__path__, prefix="lettr_cli.")
        if not info.name.endswith("__main__")  # running it would start the CLI
    ]
    for name in names:
        importlib.import_module(name)
    return names


def test_the_table_is_contracts() -> None:
    assert contract_codes() == ERROR_CODES
    assert contract_codes() == CONTRACT_CODES  # the fallback list follows CONTRACT too


def test_every_error_class_takes_its_code_from_the_table() -> None:
    modules = import_every_module()
    assert len(modules) > 50  # the walk saw the whole package
    classes = all_subclasses(LettrError)
    outside = {f"{cls.__module__}.{cls.__qualname__}": cls.code for cls in classes}
    outside = {name: code for name, code in outside.items() if code not in ERROR_CODES}
    assert outside == {}
    # Each code of the table has its class in errors.py (the CLI and the faces raise those).
    defined = {cls.code for cls in classes if cls.__module__ == errors.__name__}
    assert defined == set(ERROR_CODES)


def test_the_guard_refuses_a_code_outside_the_table() -> None:
    with pytest.raises(AssertionError, match="store_busy"):
        errors._code("store_busy")


def _error_names() -> set[str]:
    import_every_module()
    return {cls.__name__ for cls in all_subclasses(LettrError)} | {"LettrError"}


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def codes_in_source(path: Path, error_names: set[str]) -> list[str]:
    """What in ``path`` sets an error code the table may not have: each as ``line: what``."""
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) in error_names:
            if _called_name(node) == "LettrError":
                found.append(f"{node.lineno}: a bare LettrError (code {LettrError.code!r})")
            for keyword in node.keywords:
                code = _literal(keyword.value)
                if keyword.arg in ("code", "error_code") and code not in ERROR_CODES:
                    found.append(f"{node.lineno}: {keyword.arg}={code!r}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            code = _literal(node.value)
            for target in targets:
                named = (isinstance(target, ast.Name) and target.id == "code") or (
                    isinstance(target, ast.Attribute) and target.attr == "code"
                )
                if named and code is not None and code not in ERROR_CODES:
                    found.append(f"{node.lineno}: code = {code!r}")
    return sorted(found, key=lambda hit: int(hit.split(":")[0]))


def test_no_module_invents_a_code_inline() -> None:
    names = _error_names()
    found = {
        str(path.relative_to(REPO)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "errors.py" and (hits := codes_in_source(path, names))
    }
    assert found == {}


def test_the_source_check_sees_an_invented_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from lettr_cli.errors import LettrError, NotFound\n"
        "class Busy(LettrError):\n"
        "    code = 'store_busy'\n"
        "def f():\n"
        "    raise LettrError('no code of the table')\n"
        "def g():\n"
        "    raise NotFound('gone', code='gone_away')\n"
        "def h(error):\n"
        "    error.code = 'made_up'\n"
        "    raise NotFound('fine')\n",
        encoding="utf-8",
    )
    assert codes_in_source(sample, {"LettrError", "NotFound"}) == [
        "3: code = 'store_busy'",
        "5: a bare LettrError (code 'error')",
        "7: code='gone_away'",
        "9: code = 'made_up'",
    ]

"""The parts of lettr_cli form layers without cycles (ARCHITECTURE.md; issue "One core for every
face"). The graph comes from the imports themselves (grimp, the engine of import-linter), with
imports inside functions counted and TYPE_CHECKING-only imports left out. `lint-imports` checks
the order in .ci/run; these tests check that no cycle exists and that no part escapes the order."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def part_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("lettr_cli", exclude_type_checking_imports=True)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        me = _part(module)
        for target in graph.find_modules_directly_imported_by(module):
            other = _part(target)
            if me and other and other != me:
                edges.setdefault(me, set()).add(other)
    return edges


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if bits[0] == "lettr_cli" and len(bits) > 1 else None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_parts_import_each_other_without_a_cycle() -> None:
    edges = part_graph()
    assert edges["cli"] >= {"campaigns", "delivery"}  # the graph is real, not empty
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_part_has_its_place_in_the_layers_contract() -> None:
    # import-linter leaves a part that no layer names unchecked; a new part must be placed.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name for layer in layers for name in re.findall(r"[a-z_]+", layer)}
    parts = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "lettr_cli").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert parts <= named, f"parts missing from the layers contract: {sorted(parts - named)}"


def test_the_architecture_note_lists_the_layers_in_the_contracts_order() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    order = [name for layer in reversed(layers) for name in re.findall(r"[a-z_]+", layer)]
    note = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").partition("## The layers")[2]
    positions = [note.find(f"`{name}`") for name in order]
    assert -1 not in positions, [n for n, at in zip(order, positions, strict=True) if at < 0]
    assert positions == sorted(positions), "ARCHITECTURE.md lists the parts in another order"


if __name__ == "__main__":
    graph = part_graph()
    for part in sorted(graph):
        print(f"{part} -> {', '.join(sorted(graph[part]))}")
    found = cycles(graph)
    for cycle in found:
        print("cycle:", " <-> ".join(cycle))
    print(f"{len(found)} cycle(s) between lettr_cli's parts")
    raise SystemExit(1 if found else 0)

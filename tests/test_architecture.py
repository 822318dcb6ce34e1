"""The layout docs/architecture.md describes, checked on the import graph itself.

grimp sees every import, in functions and under ``TYPE_CHECKING`` too, so a lazy import
cannot hide a cycle or a window module reaching past the engine's front doors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grimp
import pytest

#: What the window and the command line may import of the engine.
FRONT_DOORS = frozenset(
    "desktop_app.engine." + name
    for name in ("library", "cleanup", "types", "errors", "config", "units", "paths")
) | {"desktop_app.engine"}


def cycles(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("desktop_app")


def _edges(graph: grimp.ImportGraph) -> dict[str, list[str]]:
    return {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def test_the_cycle_finder_finds_cycles():
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e"]}
    assert cycles(edges) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": ["b"], "b": []}) == []


def test_no_module_imports_itself_back(graph):
    found = cycles(_edges(graph))
    assert found == [], f"import cycles: {found}"


def test_the_window_and_the_command_line_import_only_the_front_doors(graph):
    leaks = sorted(
        f"{module} -> {target}"
        for module in graph.modules
        if module.startswith(("desktop_app.gui", "desktop_app.cli"))
        for target in graph.find_modules_directly_imported_by(module)
        if target.startswith("desktop_app.engine") and target not in FRONT_DOORS
    )
    assert leaks == []


def test_nothing_in_the_application_imports_the_benchmarks():
    graph = grimp.build_graph("desktop_app", include_external_packages=True)
    outside = {
        target
        for module in graph.modules
        if module.startswith("desktop_app.")
        for target in graph.find_modules_directly_imported_by(module)
        if not target.startswith("desktop_app")
    }
    assert "numpy" in outside  # external imports are seen
    assert "benchmarks" not in outside


def test_the_engine_and_the_window_hold_at_most_eight_modules_each():
    from pathlib import Path

    import desktop_app

    root = Path(desktop_app.__file__).parent
    for package in ("engine", "gui"):
        modules = sorted(p.name for p in (root / package).glob("*.py"))
        assert len(modules) <= 8, (package, modules)

"""The test suite itself: no test that could not fail where CI runs it.

CI runs as root, so a test skipped for root never runs there (``tests/unprivileged.py``
runs such tests as an ordinary user instead), and a test that puts a folder on
``sys.path`` imports whatever is found there first, not the code it means to test.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(TESTS.rglob("*.py"))]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def test_no_test_module_changes_the_import_path():
    found = [
        f"{path.relative_to(TESTS)}:{node.lineno}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _dotted(node.func) in {"sys.path.insert", "sys.path.append", "sys.path.extend"}
    ]
    assert found == [], "import what a test needs from a package, not through sys.path"


def test_no_test_is_skipped_for_running_as_root():
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _dotted(node.func).endswith("skipif")):
                continue
            for part in ast.walk(node):
                if isinstance(part, ast.Call) and _dotted(part.func) == "os.geteuid":
                    found.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert found == [], "CI runs as root: run the test as another user (tests/unprivileged.py)"

"""The engine never imports Qt: it must run headless, in scripts and in worker processes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, pkgutil, sys
import desktop_app.engine as engine
import desktop_app.cli, desktop_app.cli.progress
for module in pkgutil.walk_packages(engine.__path__, "desktop_app.engine."):
    importlib.import_module(module.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
print(",".join(loaded))
"""


def test_importing_every_engine_module_and_the_cli_loads_no_qt():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""


def test_the_import_contracts_hold():
    """``lint-imports`` over this checkout: Qt-free engine, front doors, layers, no cycles."""
    run = "import sys, importlinter.cli as c; sys.exit(c.lint_imports_command())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", run, "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout

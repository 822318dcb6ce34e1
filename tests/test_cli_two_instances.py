"""Two Doppel processes on one catalog: a second scan and a rebuild under an open window
each end with one line, and nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo
from desktop_app.engine.catalog.rebuild import rebuild_catalog
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import CatalogError, CatalogLocked
from desktop_app.engine.library import Library

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    for seed in range(4):
        synthetic_photo(80 + seed, (160, 120)).save(root / f"p{seed}.jpg", quality=90)
    return root


def _drain(steps):
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        return stop.value


def test_a_second_scan_exits_with_one_line_and_the_first_finishes(photos, tmp_path, capsys):
    path = tmp_path / "catalog.sqlite"
    with Library([str(photos)], catalog=path, config=EngineConfig(workers=0)) as first:
        steps = first.scan()
        next(steps)  # the first scan is under way
        code = main(["scan", str(photos), "--catalog", str(path), "--workers", "0"])
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert "Another Doppel scan" in err
        summary = _drain(steps)
        assert summary.added == 4 and not summary.failures
    assert main(["scan", str(photos), "--catalog", str(path), "--workers", "0"]) == 0


def test_sqlite_errors_inside_a_transaction_are_catalog_errors(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.set_meta("k", "1")
        with pytest.raises(CatalogError), catalog.transaction() as db:
            db.execute("INSERT INTO meta(key, value) VALUES('k', '2')")  # a unique key
        with pytest.raises(CatalogError), catalog.snapshot() as db:
            db.execute("SELECT * FROM no_such_table")
        assert catalog.get_meta("k") == "1"


def test_rebuild_refuses_while_another_process_has_the_catalog_open(photos, tmp_path, capsys):
    path = tmp_path / "catalog.sqlite"
    assert main(["scan", str(photos), "--catalog", str(path), "--workers", "0"]) == 0
    capsys.readouterr()
    holder = (
        "import sys\n"
        "from desktop_app.engine.catalog.store import Catalog\n"
        "catalog = Catalog(sys.argv[1])\n"
        "catalog.roots()\n"  # used once, then idle: no SQLite lock held
        "print('open', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    window = subprocess.Popen(
        [sys.executable, "-c", holder, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    try:
        assert window.stdout is not None and window.stdout.readline().strip() == b"open"
        code = main(["rebuild-catalog", "--catalog", str(path)])
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert "open in another Doppel process" in err
        assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    finally:
        assert window.stdin is not None
        window.stdin.write(b"\n")
        window.stdin.close()
        window.wait(timeout=30)
        assert window.stdout is not None
        window.stdout.close()
    # Inside one process too: a Library left open is seen.
    with (
        Library([str(photos)], catalog=path, config=EngineConfig(workers=0)),
        pytest.raises(CatalogLocked),
    ):
        rebuild_catalog(path)
    assert main(["rebuild-catalog", "--catalog", str(path)]) == 0
    assert [p for p in tmp_path.iterdir() if ".damaged-" in p.name]

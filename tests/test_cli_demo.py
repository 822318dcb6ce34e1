"""``doppel demo``: where it writes, and that it never writes among the user's files.

Opening the window on the demo is tested in tests/gui/test_app.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from desktop_app.cli import demo
from desktop_app.cli.main import main
from desktop_app.engine.errors import UsageError


def test_the_default_folder_is_a_new_one_in_the_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = demo.demo_folder(None), demo.demo_folder(None)
    assert first != second
    for made in (first, second):
        assert made.parent == tmp_path.resolve()
        assert made.name.startswith("doppel-demo-") and not any(made.iterdir())


def test_a_named_folder_is_created_or_must_be_empty(tmp_path):
    assert demo.demo_folder(str(tmp_path / "new" / "demo")) == (tmp_path / "new" / "demo")
    assert (tmp_path / "new" / "demo").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        demo.demo_folder(str(tmp_path / "file"))


def test_no_window_writes_the_library_only(tmp_path, monkeypatch, capsys):
    def no_window(folders, catalog):
        raise AssertionError("--no-window opened the window")

    monkeypatch.setattr(demo, "open_window", no_window)
    folder = tmp_path / "demo"
    assert main(["demo", str(folder), "--photos", "2", "--no-window"]) == 0
    out = capsys.readouterr().out
    assert f"to {folder}" in out
    photos = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert len(photos) >= 3  # two originals and at least one copy
    assert all(Path(p).suffix in {".jpg", ".png", ".webp", ".tif"} for p in photos)


def test_photos_must_be_one_or_more(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "demo"), "--photos", "0", "--no-window"]) == 2
    assert "--photos must be 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_doppel_demo_never_writes_into_a_folder_that_holds_files(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "mine.jpg").write_bytes(b"x")
    assert main(["demo", str(folder), "--no-window"]) != 0
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["mine.jpg"]

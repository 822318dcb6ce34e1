"""The doppel command: subcommands, JSON shapes, and one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import __version__
from desktop_app.cli import main
from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.config import DEFAULT_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    for seed in range(3):
        picture = synthetic_photo(seed + 40, (640, 427))
        picture.save(root / f"p{seed}.jpg", "JPEG", quality=92)
        if seed == 0:
            write_variant(picture, "jpeg30", root / "copies" / "p0_small")
            write_variant(picture, "png", root / "copies" / "p0")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    return root


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    path = tmp_path / "catalog.sqlite"
    monkeypatch.setenv("DOPPEL_CATALOG", str(path))
    return path


def run(capsys, *argv):
    code = main([*argv, "--workers", "0"] if argv and argv[0] != "--version" else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_reports_what_it_did(capsys, photos, catalog):
    code, out, _ = run(capsys, "scan", str(photos))
    assert code == 0
    assert "6 new" in out and "1 unreadable" in out
    assert "broken.jpg" in out
    assert catalog.exists()


def test_groups_json(capsys, photos, catalog):
    code, out, _ = run(capsys, "groups", str(photos), "--json", "--threshold", "10")
    assert code == 0
    data = json.loads(out)
    assert data["threshold"] == 10
    assert data["roots"] == [str(photos.resolve())]
    assert data["summary"]["groups"] == 1 and data["summary"]["extra_copies"] == 2
    (group,) = data["groups"]
    names = sorted(Path(m["path"]).name for m in group["members"])
    assert names == ["p0.jpg", "p0.png", "p0_small.jpg"]
    member = group["members"][0]
    assert member["path"] == group["reference"] and Path(member["path"]).is_absolute()
    assert set(member) >= {
        "path",
        "hash",
        "width",
        "height",
        "size",
        "format",
        "taken",
        "distance",
        "identical",
        "transform",
        "evidence",
    }
    assert len(member["hash"]) == 16


def test_groups_text(capsys, photos, catalog):
    code, out, _ = run(capsys, "groups", str(photos))
    assert code == 0
    assert "Group 1: 3 photos" in out and out.strip().endswith(f"(threshold {DEFAULT_THRESHOLD}).")


def test_pairs_json_and_text(capsys, photos, catalog):
    code, out, _ = run(capsys, "pairs", str(photos), "--json", "-t", "10")
    assert code == 0
    data = json.loads(out)
    assert len(data["pairs"]) == 3
    keys = {"a", "b", "distance", "transform", "verdict", "evidence"}
    assert all(set(p) == keys for p in data["pairs"])
    # What the geometric check found, for the pairs that needed one (a list of sentences).
    assert all(isinstance(p["evidence"], list) for p in data["pairs"])
    assert all(p["distance"] <= 10 for p in data["pairs"])
    code, out, _ = run(capsys, "pairs", str(photos), "-t", "10")
    assert len(out.strip().splitlines()) == 3
    distance, a, b = out.splitlines()[0].split("\t")
    assert int(distance) <= 10 and Path(a).is_absolute() and Path(b).is_absolute()


def test_query_json(capsys, photos, catalog, tmp_path):
    dropped = write_variant(synthetic_photo(40, (640, 427)), "resize50", tmp_path / "q")
    code, out, _ = run(capsys, "query", str(dropped), "--in", str(photos), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["query"]["path"] == str(dropped)
    names = [Path(m["path"]).name for m in data["matches"]]
    assert "p0.jpg" in names
    assert [m["distance"] for m in data["matches"]] == sorted(
        m["distance"] for m in data["matches"]
    )


def test_export_json_and_csv(capsys, photos, catalog):
    code, out, _ = run(capsys, "export", str(photos), "--json")
    assert code == 0
    records = json.loads(out)
    assert len(records) == 6
    broken = next(r for r in records if r["path"].endswith("broken.jpg"))
    assert broken["hash"] is None and broken["error"]
    good = next(r for r in records if r["path"].endswith("p1.jpg"))
    assert good["width"] == 640 and good["format"] == "JPEG" and good["error"] is None
    code, out, _ = run(capsys, "export", str(photos))
    lines = out.strip().splitlines()
    assert lines[0] == "path,hash,width,height,size,format,taken,camera,error"
    assert len(lines) == 7


def test_the_catalog_option_beats_the_environment(capsys, photos, catalog, tmp_path):
    other = tmp_path / "other.sqlite"
    code, _, _ = run(capsys, "scan", str(photos), "--catalog", str(other))
    assert code == 0 and other.exists() and not catalog.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["groups", "/definitely/not/here"], "No such folder"),
        (["groups", ".", "--threshold", "99"], "between 0 and 16"),
        (["groups", ".", "--threshold", "ten"], "not a whole number"),
        (["frobnicate"], "No such folder"),
        (["query", "x.jpg"], "--in"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(capsys, catalog, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("doppel: error:") and message in err
    assert "Traceback" not in err


def test_a_damaged_catalog_gives_one_line_and_exit_1(capsys, photos, tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage" * 100)
    code, _, err = run(capsys, "groups", str(photos), "--catalog", str(bad))
    assert code == 1
    assert err.count("\n") == 1 and "damaged" in err


def test_an_unreadable_query_image_gives_one_line(capsys, photos, catalog, tmp_path):
    fake = tmp_path / "fake.jpg"
    fake.write_text("hello")
    run(capsys, "scan", str(photos))
    code, _, err = run(capsys, "query", str(fake), "--in", str(photos))
    assert code == 1 and err.count("\n") == 1 and "fake.jpg" in err


def test_python_dash_m_and_version():
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"doppel {__version__}"


def test_the_window_without_a_screen_says_so(capsys, monkeypatch, tmp_path):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, _, err = run(capsys, "gui", str(tmp_path))
    assert code == 1 and err.count("\n") == 1 and "graphical session" in err


def test_readers_can_be_set_and_a_bad_count_is_refused(capsys, photos, catalog):
    from desktop_app.cli.main import build_parser
    from desktop_app.cli.opening import engine_config

    args = build_parser().parse_args(["scan", str(photos), "--readers", "1"])
    assert engine_config(args).readers == 1
    code, _, err = run(capsys, "scan", str(photos), "--readers", "0")
    assert code != 0 and "--readers must be 1 or more" in err

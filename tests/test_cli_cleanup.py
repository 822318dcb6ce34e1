"""doppel select / apply / undo / history / ignore, end to end on generated photos.

The trash is redirected into tmp_path (``XDG_DATA_HOME``) or given with --trash-dir;
Send2Trash is forbidden: no test touches the real trash.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.config import DEFAULT_THRESHOLD
from tests.engine.cleanup_support import (
    no_system_trash,  # noqa: F401 - autouse fixture
    tree_digests,
)


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    path = tmp_path / "catalog.sqlite"
    monkeypatch.setenv("DOPPEL_CATALOG", str(path))
    return path


def photos(root: Path, seeds: range, *, copies: bool = True) -> Path:
    for seed in seeds:
        picture = synthetic_photo(seed + 40, (640, 427))
        picture.save(root / f"p{seed}.jpg", "JPEG", quality=92)
        if copies and seed == seeds.start:
            write_variant(picture, "resize50", root / "copies" / f"p{seed}_half")
            write_variant(picture, "jpeg30", root / "copies" / f"p{seed} - Copy")
    return root


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    return photos(root, range(3))


def run(capsys, *argv):
    code = main([*argv, "--workers", "0"])
    out, err = capsys.readouterr()
    return code, out, err


def test_select_prints_the_plan_and_changes_nothing(capsys, catalog, library):
    before = tree_digests(library)
    code, out, _ = run(capsys, "select", str(library))
    assert code == 0
    assert "Group 1: kept: larger file (" in out
    assert out.count("MARK") == 2 and "keep" in out
    assert "2 photos marked in 1 of 1 groups" in out
    assert tree_digests(library) == before


def test_select_json_and_csv_exports(capsys, tmp_path, catalog, library):
    code, out, _ = run(capsys, "select", str(library), "--json", "--keep", "pixels,path")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["marked"] == 2 and data["threshold"] == DEFAULT_THRESHOLD
    assert data["roots"] == [str(library.resolve())]
    (group,) = data["groups"]
    assert Path(group["keeper"]).name == "p0.jpg"
    assert group["reason"].startswith("kept: path without a copy suffix")
    marked = sorted(Path(m["path"]).name for m in group["members"] if m["marked"])
    assert marked == ["p0 - Copy.jpg", "p0_half.jpg"]
    member = group["members"][0]
    assert set(member) >= {"group", "path", "distance", "keeper", "marked", "size", "width",
                           "height", "date", "note"}  # fmt: skip
    target = tmp_path / "plan.csv"
    code, _, err = run(capsys, "select", str(library), "--csv", "-o", str(target))
    assert code == 0 and "Plan written" in err
    lines = target.read_text().splitlines()
    assert lines[0].startswith("group,path,distance,identical,keeper,marked")
    assert len(lines) == 4


def test_apply_trash_undo_round_trip(capsys, tmp_path, catalog, library):
    before = tree_digests(library)
    code, out, _ = run(capsys, "apply", str(library), "--dry-run")
    assert code == 0 and out.count("would trash") == 2 and "nothing was changed" in out
    assert tree_digests(library) == before
    code, out, _ = run(capsys, "apply", str(library))  # the trash is the default
    assert code == 0 and "Moved 2 photos" in out and "doppel undo" in out
    trashed = sorted(p.name for p in (tmp_path / "xdg-data" / "Trash" / "files").iterdir())
    assert trashed == ["p0 - Copy.jpg", "p0_half.jpg"]
    assert not (library / "copies" / "p0_half.jpg").exists()
    code, out, _ = run(capsys, "select", str(library))
    assert "0 photos marked in 0 of 0 groups" in out  # the removed files left their group
    code, out, _ = run(capsys, "history", "--json")
    (op,) = json.loads(out)["operations"]
    assert (op["action"], op["done"], op["undoable"], op["state"]) == ("trash", 2, 2, "finished")
    code, out, _ = run(capsys, "undo")
    assert code == 0 and "Put back 2 photos" in out
    assert tree_digests(library) == before
    code, out, _ = run(capsys, "select", str(library))
    assert "2 photos marked in 1 of 1 groups" in out  # back in the catalog and the group
    code, _, err = run(capsys, "undo")
    assert code == 2 and err.strip() == "doppel: error: There is nothing to undo."


def test_apply_move_to_keeps_relative_paths(capsys, tmp_path, catalog, library):
    target = tmp_path / "dupes"
    code, out, _ = run(capsys, "apply", str(library), "--move-to", str(target), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["done"] == 2 and data["dry_run"] is False
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*.jpg")) == [
        "copies/p0 - Copy.jpg",
        "copies/p0_half.jpg",
    ]
    code, out, _ = run(capsys, "history", "--operation", str(data["operation"]))
    assert out.count("done") == 2


def test_permanent_deletion_needs_the_flag_and_names_count_and_size(capsys, catalog, library):
    code, _, err = run(capsys, "apply", str(library), "--delete-permanently")
    assert code == 1
    assert "This would delete 2 photos (" in err and "--yes-i-am-sure" in err
    assert (library / "copies" / "p0_half.jpg").exists()
    code, out, err = run(capsys, "apply", str(library), "--delete-permanently", "--yes-i-am-sure")
    assert code == 0 and "Deleting 2 photos" in err and "Deleted 2 photos" in out
    assert not (library / "copies" / "p0_half.jpg").exists()
    assert run(capsys, "undo")[0] == 2


def test_checking_an_import_against_the_library(capsys, tmp_path, catalog):
    lib = tmp_path / "library"
    lib.mkdir()
    photos(lib, range(2), copies=False)
    imported = tmp_path / "import"
    imported.mkdir()
    picture = synthetic_photo(40, (640, 427))  # the library's p0, re-saved by a phone
    write_variant(picture, "jpeg30", imported / "IMG_0001")
    fresh = synthetic_photo(90, (640, 427))  # new, with its own copy inside the import
    fresh.save(imported / "IMG_0002.jpg", "JPEG", quality=92)
    write_variant(fresh, "resize50", imported / "IMG_0002_small")
    library_before = tree_digests(lib)
    code, out, _ = run(capsys, "select", str(imported), "--reference", str(lib), "--json")
    assert code == 0
    data = json.loads(out)
    marked = [m["path"] for g in data["groups"] for m in g["members"] if m["marked"]]
    assert [Path(p).name for p in marked] == ["IMG_0001.jpg"]
    assert data["references"] == [str(lib.resolve())]
    code, out, _ = run(
        capsys, "apply", str(imported), "--reference", str(lib), "--trash-dir", str(tmp_path / "t")
    )
    assert code == 0 and "Moved 1 photos" in out
    assert tree_digests(lib) == library_before
    assert not (imported / "IMG_0001.jpg").exists() and (imported / "IMG_0002.jpg").exists()
    code, out, _ = run(capsys, "select", str(imported), "--reference", str(lib), "--within")
    assert "IMG_0002_small.jpg" in out and "1 photos marked" in out


def test_not_duplicates_are_remembered_and_forgotten(capsys, catalog, library):
    keeper, copy = library / "p0.jpg", library / "copies" / "p0 - Copy.jpg"
    code, out, _ = run(capsys, "ignore", str(keeper), str(copy))
    assert code == 0 and "Remembered 1 new pairs" in out
    code, out, _ = run(capsys, "select", str(library), "--json")
    marked = [m["path"] for g in json.loads(out)["groups"] for m in g["members"] if m["marked"]]
    assert str(copy) not in marked
    code, out, _ = run(capsys, "ignore", "--list", "--json")
    (pair,) = json.loads(out)["pairs"]
    assert {pair["a"], pair["b"]} == {str(keeper), str(copy)}
    code, out, _ = run(capsys, "unignore", "--key", pair["key"])
    assert code == 0 and "Forgot 1 pairs" in out
    code, out, _ = run(capsys, "ignore", "--list")
    assert "No pairs" in out


def test_apply_a_saved_and_edited_plan(capsys, tmp_path, catalog, library):
    plan = tmp_path / "plan.json"
    run(capsys, "select", str(library), "--json", "-o", str(plan))
    data = json.loads(plan.read_text())
    for member in data["groups"][0]["members"]:
        if member["path"].endswith("p0_half.jpg"):
            member["marked"] = False  # the user changed their mind about this one
    plan.write_text(json.dumps(data))
    code, out, _ = run(capsys, "apply", "--plan", str(plan), "--trash-dir", str(tmp_path / "t"))
    assert code == 0 and "Moved 1 photos" in out
    assert (library / "copies" / "p0_half.jpg").exists()
    assert not (library / "copies" / "p0 - Copy.jpg").exists()
    for member in data["groups"][0]["members"]:
        member["marked"] = True
    plan.write_text(json.dumps(data))
    code, _, err = run(capsys, "apply", "--plan", str(plan), "--trash-dir", str(tmp_path / "t"))
    assert code == 2 and "one must stay" in err


def test_presets_from_the_command_line(capsys, catalog, library):
    code, out, _ = run(capsys, "select", str(library), "--keep", "size", "--save-preset", "big")
    assert code == 0
    code, out, _ = run(capsys, "select", str(library), "--preset", "big", "--json")
    assert json.loads(out)["rules"]["criteria"] == ["size"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["apply", "LIB", "--trash", "--move-to", "x"], "not allowed with argument"),
        (["select", "LIB", "--keep", "pixels,colour"], "Unknown criterion"),
        (["select", "LIB", "--preset", "nope"], "No preset named 'nope'"),
        (["select", "LIB", "--csv", "--json"], "not both"),
        (["ignore", "LIB/p0.jpg"], "at least two"),
        (["history", "--operation", "99"], None),
    ],
)
def test_errors_are_one_line(capsys, catalog, library, argv, message):
    argv = [a.replace("LIB", str(library)) for a in argv]
    code, out, err = run(capsys, *argv)
    if message is None:
        assert code == 0 and out == ""
        return
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("doppel: error")]
    assert len(lines) == 1 and message in lines[0]


def test_apply_merge_metadata_and_sidecars_from_the_command_line(capsys, tmp_path, catalog):
    import exiv2

    (tmp_path / "lib").mkdir()
    root = photos(tmp_path / "lib", range(1))  # p0.jpg, copies/p0_half.jpg, "p0 - Copy.jpg"
    (root / "copies" / "p0_half.jpg.xmp").write_bytes(
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
        b' rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"'
        b' xmp:Label="Green"/></rdf:RDF></x:xmpmeta>'
    )
    before = tree_digests(root)
    code, out, _ = run(capsys, "select", str(root), "--json")
    members = {Path(m["path"]).name: m for m in json.loads(out)["groups"][0]["members"]}
    assert [s["kind"] for s in members["p0_half.jpg"]["sidecars"]] == ["xmp"]
    assert members["p0.jpg"]["sidecars"] == [] and members["p0.jpg"]["lineage"] is None
    code, out, _ = run(capsys, "groups", str(root), "--json")  # as the scan recorded them
    members = {Path(m["path"]).name: m for m in json.loads(out)["groups"][0]["members"]}
    assert members["p0_half.jpg"]["sidecars"] == [
        {"path": str(root / "copies" / "p0_half.jpg.xmp"), "kind": "xmp"}
    ]

    code, out, _ = run(capsys, "apply", str(root), "--merge-metadata", "--dry-run")
    assert code == 0 and f"with its sidecar {root / 'copies' / 'p0_half.jpg.xmp'}" in out
    assert "would carry over to" in out and "rating 5; label Green" in out
    assert tree_digests(root) == before

    trash = tmp_path / "t"
    code, out, _ = run(
        capsys, "apply", str(root), "--merge-metadata", "--trash-dir", str(trash), "--json"
    )
    data = json.loads(out)
    (merge,) = data["merges"]
    assert merge["created"] and merge["state"] == "done" and Path(merge["keeper"]).name == "p0.jpg"
    half = next(f for f in data["files"] if f["source"].endswith("p0_half.jpg"))
    assert [Path(s["destination"]).name for s in half["sidecars"]] == ["p0_half.jpg.xmp"]
    image = exiv2.ImageFactory.open(str(root / "p0.jpg.xmp"))
    image.readMetadata()
    assert image.xmpData()["Xmp.xmp.Rating"].toString() == "5"
    code, out, _ = run(capsys, "undo")
    assert code == 0 and "put back" in out
    assert tree_digests(root) == before

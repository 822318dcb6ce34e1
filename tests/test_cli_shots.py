"""``doppel shots``, verdicts in the JSON output, ``--similar-shots`` and
``--keep-sharpest`` (issue 9)."""

from __future__ import annotations

import json

import pytest
from PIL import ImageFilter

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo
from desktop_app.demo.shots import burst_frame, capture_exif, strip_metadata


@pytest.fixture(scope="module")
def burst(tmp_path_factory):
    root = tmp_path_factory.mktemp("burst")
    picture = synthetic_photo(5, (640, 427))
    picture.save(root / "IMG_0.jpg", quality=90, exif=capture_exif(subsec="00"))
    frame = burst_frame(picture, "moved", 0.01).filter(ImageFilter.GaussianBlur(2))
    frame.save(root / "IMG_1.jpg", quality=90, exif=capture_exif(subsec="50"))
    (root / "stripped.jpg").write_bytes(strip_metadata((root / "IMG_0.jpg").read_bytes()))
    return root


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    path = tmp_path / "catalog.sqlite"
    monkeypatch.setenv("DOPPEL_CATALOG", str(path))
    return path


def run(capsys, *argv):
    code = main([*argv, "--workers", "0"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_groups_and_pairs_carry_verdicts_and_leave_shots_out(capsys, burst, catalog):
    code, out, _ = run(capsys, "groups", str(burst), "--json")
    assert code == 0
    (group,) = json.loads(out)["groups"]
    members = {m["path"].rsplit("/", 1)[1]: m for m in group["members"]}
    assert set(members) == {"IMG_0.jpg", "stripped.jpg"}
    verdicts = {m["verdict"] for m in members.values()}
    assert verdicts == {None, "same_pixels"}
    assert ["same pixels, other metadata"] in [m["evidence"] for m in members.values()]
    assert members["IMG_0.jpg"]["capture"]["subsec"] == "00"
    assert "similar_shots" not in json.loads(out)

    code, out, _ = run(capsys, "groups", str(burst), "--json", "--similar-shots")
    shots = json.loads(out)["similar_shots"]
    assert shots and all(p["verdict"] == "similar_shot" for p in shots)
    assert any("other sub-second" in e for p in shots for e in p["evidence"])

    code, out, _ = run(capsys, "pairs", str(burst), "--json")
    assert {p["verdict"] for p in json.loads(out)["pairs"]} == {"same_pixels"}
    code, out, _ = run(capsys, "pairs", str(burst), "--json", "--similar-shots")
    assert "similar_shot" in {p["verdict"] for p in json.loads(out)["pairs"]}


def test_shots_lists_the_burst_with_sharpness_and_keep_sharpest_dry_run(capsys, burst, catalog):
    code, out, _ = run(capsys, "shots", str(burst), "--json")
    assert code == 0
    (group,) = json.loads(out)["groups"]
    assert [m["path"].rsplit("/", 1)[1] for m in group["members"]] == ["IMG_0.jpg", "IMG_1.jpg"]
    assert group["sharpest"].endswith("IMG_0.jpg")  # the other frame is blurred
    assert all(m["sharpness"] > 0 for m in group["members"])
    assert group["members"][0]["exposure"] == "1/250 s f/2.8 ISO 200"
    code, out, _ = run(capsys, "shots", str(burst))
    assert "* " in out and "nothing is marked" in out
    code, out, _ = run(capsys, "apply", str(burst), "--keep-sharpest", "--dry-run")
    assert code == 0
    assert "IMG_1.jpg" in out and "IMG_0.jpg" not in out.split("IMG_1.jpg")[0].splitlines()[-1]
    assert (burst / "IMG_1.jpg").exists()

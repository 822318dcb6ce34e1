"""Groups with keepers and marks, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from desktop_app.engine.errors import UsageError
from desktop_app.engine.selection import export
from desktop_app.engine.selection.plans import select
from tests.engine.cleanup_support import group, record


def plan():
    a = record(1, "/p/a.jpg", width=6000, height=4000, size=9_000, taken="2020-01-02T03:04:05")
    b = record(2, "/p/a (1).jpg", width=3000, height=2000, size=4_000, phash=0x8000_0000_0000_0003)
    c = record(3, "/p/c.png", fmt="PNG")
    d = record(4, "/p/d.png", fmt="PNG", digest=(3).to_bytes(16, "big"))
    return select([group(a, b), group(c, d, index=1)], threshold=10)


def test_csv_has_one_row_per_photo():
    out = io.StringIO()
    export.write_csv(plan(), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(export.FIELDS)
    assert [(r["group"], r["path"], r["keeper"], r["marked"]) for r in rows] == [
        ("1", "/p/a.jpg", "True", "False"),
        ("1", "/p/a (1).jpg", "False", "True"),
        ("2", "/p/c.png", "True", "False"),
        ("2", "/p/d.png", "False", "True"),
    ]
    assert rows[0]["date"] == "2020-01-02T03:04:05" and rows[1]["date"] == ""
    assert (rows[1]["distance"], rows[1]["width"], rows[1]["height"]) == ("1", "3000", "2000")
    assert rows[3]["identical"] == "True"
    assert rows[0]["note"].startswith("kept: largest pixel count")


def test_json_nests_rows_under_groups():
    out = io.StringIO()
    export.write_json(plan(), out, roots=["/p"])
    data = json.loads(out.getvalue())
    assert data["roots"] == ["/p"] and data["threshold"] == 10
    assert data["summary"] == {"groups": 2, "marked": 2, "marked_bytes": 4_000 + 1_000_000}
    first = data["groups"][0]
    assert first["keeper"] == "/p/a.jpg" and first["reason"].startswith("kept:")
    assert first["members"][1]["marked"] is True and first["members"][1]["size"] == 4_000
    assert data["rules"]["criteria"][:2] == ["original", "pixels"]


def test_write_file_picks_the_format_by_name(tmp_path):
    assert export.write_file(plan(), tmp_path / "plan.csv") == "csv"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "plan.csv").read_text("utf-8"))))
    assert len(rows) == 4 and rows[1]["marked"] == "True"
    assert export.write_file(plan(), tmp_path / "plan.JSON", roots=["/p"]) == "json"
    data = json.loads((tmp_path / "plan.JSON").read_text("utf-8"))
    assert data["roots"] == ["/p"] and data["summary"]["marked"] == 2


def test_write_file_refuses_other_names(tmp_path):
    with pytest.raises(UsageError, match=r"\.csv or a \.json"):
        export.write_file(plan(), tmp_path / "plan.txt")
    assert not (tmp_path / "plan.txt").exists()

"""The item models: contents, roles, thumbnails, and Qt's model tester."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap

from desktop_app.engine.types import FileFailure, Group, Match
from desktop_app.gui.groups.models import (
    FailureModel,
    GroupModel,
    GroupRole,
    MatchModel,
    MatchRole,
    PathRole,
    ThumbnailsRole,
)
from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from tests.gui.factories import grouping, record, resolver, write_photo


@pytest.fixture
def loader(qtbot):
    made = ThumbnailLoader(max_side=64, threads=1)
    yield made
    made.shutdown()


def _three_groups(tmp_path):
    records = {i: record(i, str(tmp_path / f"p{i}.jpg"), size=1000 * i) for i in range(1, 8)}
    found = grouping([[(1, 0), (2, 3), (3, 5)], [(4, 0), (5, 1)], [(6, 0), (7, 2)]])
    return records, found


def test_group_model_rows_and_roles(qtmodeltester, tmp_path):
    records, found = _three_groups(tmp_path)
    model = GroupModel()
    model.set_grouping(found, resolver(records))
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    group = model.index(0, 0).data(GroupRole)
    assert isinstance(group, Group)
    assert [m.image.id for m in group.members] == [1, 2, 3]
    assert [m.distance for m in group.members] == [0, 3, 5]
    assert "3 photos" in model.index(0, 0).data(Qt.ItemDataRole.DisplayRole)
    assert str(tmp_path / "p2.jpg") in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 0).data(ThumbnailsRole) == [None, None, None]  # no loader


def test_group_model_resolves_lazily(tmp_path):
    records, found = _three_groups(tmp_path)
    asked: list[int] = []
    resolve = resolver(records)

    def counting(g, i):
        asked.append(i)
        return resolve(g, i)

    model = GroupModel()
    model.set_grouping(found, counting)
    assert asked == []
    model.index(2, 0).data(GroupRole)
    model.index(2, 0).data(GroupRole)
    assert asked == [2]


def test_group_model_reset_and_empty(qtmodeltester, qtbot, tmp_path):
    records, found = _three_groups(tmp_path)
    model = GroupModel()
    qtmodeltester.check(model)
    with qtbot.waitSignal(model.modelReset):
        model.set_grouping(found, resolver(records))
    with qtbot.waitSignal(model.modelReset):
        model.set_grouping(None, None)
    assert model.rowCount() == 0
    assert model.data(model.index(0, 0), GroupRole) is None
    assert model.data(QModelIndex(), GroupRole) is None


def test_thumbnails_arrive_for_the_waiting_row_only(qtbot, loader, tmp_path):
    for i in (1, 2, 4, 5):
        write_photo(tmp_path / f"p{i}.jpg", seed=i)
    records, found = _three_groups(tmp_path)
    model = GroupModel(loader)
    model.set_grouping(found, resolver(records))
    model.visible_cards = 2
    assert model.index(1, 0).data(ThumbnailsRole) == [None, None]
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, roles: changed.append(top.row()))
    qtbot.waitUntil(lambda: loader.pixmap(str(tmp_path / "p5.jpg")) is not None)
    qtbot.waitUntil(
        lambda: all(isinstance(t, QPixmap) for t in model.index(1, 0).data(ThumbnailsRole))
    )
    qtbot.waitUntil(lambda: bool(changed))  # collected for a few ms, then one signal
    assert set(changed) == {1}
    thumbs = model.index(1, 0).data(ThumbnailsRole)
    assert max(thumbs[0].width(), thumbs[0].height()) == 64


def test_match_model_filters_by_threshold(qtmodeltester, tmp_path):
    matches = [
        Match(record(i, str(tmp_path / f"m{i}.jpg")), d, d == 0)
        for i, d in enumerate([0, 2, 5, 9, 14], 1)
    ]
    model = MatchModel()
    model.set_matches(matches, threshold=5)
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert [model.index(r, 0).data(MatchRole).distance for r in range(3)] == [0, 2, 5]
    assert model.index(0, 0).data(PathRole) == str(tmp_path / "m1.jpg")
    model.set_threshold(16)
    assert model.rowCount() == 5 and model.total() == 5
    model.set_threshold(0)
    assert model.rowCount() == 1
    qtmodeltester.check(model)


def test_failure_model(qtmodeltester):
    model = FailureModel()
    model.set_failures(
        [
            FileFailure("/photos/a/bad.jpg", 10, 1, "truncated JPEG"),
            FileFailure("/photos/b.png", 3, 1, "not an image"),
        ]
    )
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == 3
    assert model.index(0, 0).data() == "bad.jpg"
    assert model.index(0, 1).data() == "truncated JPEG"
    assert model.index(1, 0).data(PathRole) == "/photos/b.png"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Reason"

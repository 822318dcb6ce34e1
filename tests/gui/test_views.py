"""The cluster view, the query panel and the compare view, on constructed data."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPixmap, QShortcut

from desktop_app.engine.types import (
    FileFailure,
    GeometryCheck,
    ImageFeatures,
    Match,
    Phase,
    Progress,
    QueryResult,
)
from desktop_app.gui.compare.compare_dialog import CompareDialog, PreviewDialog
from desktop_app.gui.groups.cluster_view import ClusterView
from desktop_app.gui.groups.models import GroupModel
from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from desktop_app.gui.library.panels import EmptyState, FailurePanel, ScanProgress
from desktop_app.gui.query.panel import QueryPanel
from tests.gui.factories import differing_rows, grouping, record, resolver, write_photo


@pytest.fixture
def loader(qtbot):
    made = ThumbnailLoader(max_side=96, threads=1)
    yield made
    made.shutdown()


@pytest.fixture
def view(qtbot, tmp_path, loader):
    records = {i: record(i, str(write_photo(tmp_path / f"p{i}.jpg", seed=i))) for i in range(1, 16)}
    model = GroupModel(loader)
    model.set_grouping(
        grouping(
            [
                [(i, min(i - 1, 9)) for i in range(1, 10)],
                [(10, 0), (11, 2)],
                [(12, 0), (13, 1), (14, 4)],
            ]
        ),
        resolver(records),
    )
    made = ClusterView(loader)
    made.setModel(model)
    qtbot.addWidget(made)
    made.resize(820, 700)  # four cards a row
    made.show()
    qtbot.waitExposed(made)
    return made


def _centre(view, row, slot):
    rect = view.visualRect(view.model().index(row, 0))
    return view.card_rect(rect, slot).center()


def test_rows_show_cards_and_a_more_tile(view):
    assert view.slots() == 4
    assert view.layout_cards(9) == (3, 6)
    assert view.layout_cards(2) == (2, 0)
    assert view.card_at(_centre(view, 1, 1)) == (1, 1)
    assert view.card_at(_centre(view, 1, 3)) is None  # no card there


def test_click_selects_and_ctrl_click_adds(qtbot, view):
    with qtbot.waitSignal(view.selection_changed):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_centre(view, 1, 0))
    assert [r.id for r in view.selected_photos()] == [10]
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        _centre(view, 2, 2),
    )
    assert [r.id for r in view.selected_photos()] == [10, 14]
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        _centre(view, 1, 0),
    )
    assert [r.id for r in view.selected_photos()] == [14]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_centre(view, 1, 0))
    assert [r.id for r in view.selected_photos()] == [10]


def test_double_click_and_more_tile(qtbot, view):
    with qtbot.waitSignal(view.photo_activated) as blocker:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_centre(view, 2, 1))
    assert blocker.args[0].id == 13
    with qtbot.waitSignal(view.more_requested) as blocker:
        tile = view.tile_rect(view.visualRect(view.model().index(0, 0)), 3).center()
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    assert blocker.args == [0]


def test_keyboard_moves_selects_and_opens(qtbot, view):
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.current_card() == (0, 1)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.current_card() == (1, 1)
    with qtbot.waitSignal(view.mark_toggled) as blocker:  # Space marks the current card
        qtbot.keyClick(view, Qt.Key.Key_Space)
    assert blocker.args[0] == 1 and blocker.args[1].id == 11
    assert [r.id for r in view.selected_photos()] == [11]  # the keys move the selection
    qtbot.keyClick(view, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_photos() == []
    qtbot.keyClick(view, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert [r.id for r in view.selected_photos()] == [11]
    with qtbot.waitSignal(view.photo_activated) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert blocker.args[0].id == 11
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.selected_photos() == []


def test_thumbnails_replace_placeholders(qtbot, view, loader):
    first = view.model().group(1).members[0].image.path
    qtbot.waitUntil(lambda: loader.pixmap(first) is not None, timeout=5000)
    assert not view.grab().isNull()


def test_query_panel_ranks_and_filters(qtbot, tmp_path):
    panel = QueryPanel()
    qtbot.addWidget(panel)
    panel.set_threshold(4)
    query = ImageFeatures(str(tmp_path / "q.jpg"), 10, 1, b"q" * 16, 1 << 63, 640, 480, "JPEG")
    matches = tuple(
        Match(record(i, f"/lib/m{i}.jpg"), d, d == 0) for i, d in enumerate([0, 3, 6, 12], 1)
    )
    panel.show_result(QueryResult(query, 16, matches), "q.jpg")
    assert panel.model.rowCount() == 2
    assert panel.count.text() == "2 matches within distance 4, 1 byte-identical (4 within 16)"
    assert panel.stack.currentWidget() is panel.list
    panel.set_threshold(16)
    assert [panel.model.match_at(r).distance for r in range(4)] == [0, 3, 6, 12]
    panel.set_threshold(0)
    panel.list.selectAll()
    assert [p.id for p in panel.selected_photos()] == [1]
    panel.show_result(QueryResult(query, 16, ()), "q.jpg")
    assert panel.stack.currentWidget() is panel.none_found
    panel.show_message("Cannot look for x.txt", "not an image")
    assert panel.title.text() == "Cannot look for x.txt"


def test_compare_follows_zoom_and_pan_and_highlights_differences(qtbot, tmp_path):
    big = write_photo(tmp_path / "big.jpg", seed=3, size=(800, 600))
    small = write_photo(tmp_path / "small.jpg", seed=3, size=(400, 300), quality=40)
    left = record(1, str(big), width=800, height=600, size=90_000, phash=0x8000000000000003)
    right = record(
        2, str(small), width=400, height=300, size=20_000, phash=0x8000000000000001, camera=None
    )
    previews = ThumbnailLoader(max_side=None, threads=1)
    try:
        dialog = CompareDialog(left, right, previews)
        qtbot.addWidget(dialog)
        dialog.show()
        a, b = (pane.view for pane in dialog.panes)
        qtbot.waitUntil(lambda: a.has_image() and b.has_image(), timeout=5000)
        assert a.image_size() == (800, 600) and b.image_size() == (400, 300)
        a.zoom_by(4.0, QPointF(30, 30))
        assert b.zoom() == pytest.approx(4.0)
        assert (b.center().x(), b.center().y()) == pytest.approx(
            (a.center().x(), a.center().y()), abs=0.01
        )
        a.horizontalScrollBar().setValue(a.horizontalScrollBar().value() + 40)  # a drag pans
        assert b.center().x() == pytest.approx(a.center().x(), abs=0.01)
        b.fit()
        assert a.zoom() == 1.0
        a.zoom_by(3.0)
        (zero_key,) = dialog.findChildren(QShortcut)
        zero_key.activated.emit()  # the 0 key fits both
        assert a.zoom() == b.zoom() == 1.0
        assert differing_rows(dialog) == [
            "File name",
            "Pixel size",
            "Megapixels",
            "File size",
            "Camera",
            "Perceptual hash",
        ]
        assert "distance between them: 1" in dialog.verdict.text()
    finally:
        previews.shutdown()


def test_preview_shows_why_a_photo_cannot_be_shown(qtbot, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff" + b"\0" * 50)
    previews = ThumbnailLoader(max_side=None, threads=1)
    try:
        dialog = PreviewDialog(record(1, str(broken)), previews)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: bool(dialog.pane.view._message.startswith("Cannot")), timeout=5000)
        assert not dialog.pane.view.has_image()
        assert dialog.pane.view._message.startswith("Cannot show this photo")
    finally:
        previews.shutdown()


def test_small_panels(qtbot):
    progress = ScanProgress()
    qtbot.addWidget(progress)
    progress.start()
    progress.update_progress(Progress(Phase.HASHING, 5, 20, "/photos/a/IMG_1.jpg", 2.5, 6.0))
    assert progress.bar.maximum() == 20 and progress.bar.value() == 5
    assert "5/20" in progress.label.text() and progress.current.text() == "IMG_1.jpg"
    with qtbot.waitSignal(progress.cancel_requested):
        progress.cancel.click()
    assert not progress.cancel.isEnabled()

    failures = FailurePanel()
    qtbot.addWidget(failures)
    failures.set_failures([FileFailure("/p/bad.jpg", 1, 1, "truncated JPEG")])
    assert failures.model.rowCount() == 1 and "1 file could not" in failures.summary.text()

    empty = EmptyState()
    qtbot.addWidget(empty)
    empty.set_recent([["/photos/a", "/photos/b"]])
    with qtbot.waitSignal(empty.recent_requested) as blocker:
        empty.recent.itemActivated.emit(empty.recent.item(0))
    assert blocker.args == [["/photos/a", "/photos/b"]]
    assert isinstance(QPixmap(), QPixmap)


def test_compare_says_which_was_exported_from_which_and_lists_sidecars(qtbot, tmp_path):
    import exiv2

    raw = tmp_path / "IMG_1234.CR3"
    raw.write_bytes(b"raw " * 64)
    (tmp_path / "IMG_1234.xmp").write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    export = write_photo(tmp_path / "IMG_1234_edit.jpg", seed=3, size=(80, 60))
    image = exiv2.ImageFactory.open(str(export))
    image.readMetadata()
    image.xmpData()["Xmp.xmpMM.DerivedFrom"] = "IMG_1234.CR3"
    image.writeMetadata()
    left = record(1, str(raw), width=80, height=60, fmt="CR3")
    right = record(2, str(export), width=80, height=60)
    dialog = CompareDialog(left, right, None)
    qtbot.addWidget(dialog)
    rows = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())]
    made, sidecars = rows.index("Made from"), rows.index("Sidecars")
    assert dialog.table.item(made, 1).text() == "exported from IMG_1234.CR3"
    assert dialog.table.item(made, 0).text() == ""
    assert dialog.table.item(sidecars, 0).text() == "IMG_1234.xmp (xmp)"
    assert "Made from" in differing_rows(dialog)
    dialog.show()
    dialog.grab().save(str(tmp_path / "compare_lineage.png"))


def test_compare_outlines_the_crop_on_its_original(qtbot, tmp_path):
    original = write_photo(tmp_path / "original.jpg", seed=5, size=(600, 400))
    crop = write_photo(tmp_path / "crop.jpg", seed=5, size=(468, 340))
    left = record(1, str(crop), width=468, height=340, phash=0x8000000000000003)
    right = record(2, str(original), width=600, height=400, phash=0x8000000000000001)
    check = GeometryCheck(
        True,
        ("crop of the original: 78 % of its width, offset (5 %, 10 %)", "212 matching keypoints"),
        cropped="a",
        frame=(0.05, 0.10, 0.83, 0.95),
    )
    previews = ThumbnailLoader(max_side=None, threads=1)
    try:
        dialog = CompareDialog(left, right, previews, geometry=check)
        qtbot.addWidget(dialog)
        dialog.show()
        crop_view, original_view = (pane.view for pane in dialog.panes)
        qtbot.waitUntil(lambda: crop_view.has_image() and original_view.has_image(), timeout=5000)
        assert original_view.frame() == check.frame
        assert crop_view.frame() is None
        assert "Crop of the original: 78 % of its width" in dialog.verdict.text()
        dialog.resize(900, 500)
        dialog.grab().save(str(tmp_path / "compare_crop.png"))
    finally:
        previews.shutdown()


def test_card_tooltip_carries_the_geometric_evidence(qtbot, tmp_path, loader):
    from desktop_app.engine.library import resolve_group

    records = {i: record(i, str(write_photo(tmp_path / f"p{i}.jpg", seed=i))) for i in (1, 2)}
    check = GeometryCheck(
        True, ("crop of the original: 80 % of its width, offset (10 %, 10 %)",), "b", None
    )
    model = GroupModel(loader)
    model.set_grouping(
        grouping([[(1, 0), (2, 0)]]),
        lambda found, index: resolve_group(found, index, records, {(1, 2): check}),
    )
    made = ClusterView(loader)
    made.setModel(model)
    qtbot.addWidget(made)
    made.resize(820, 300)
    made.show()
    member = model.group(0).members[1]
    # Oriented to the member: it is the crop ("a") of the reference.
    assert member.geometry is not None and member.geometry.cropped == "a"
    tip = made.card_tooltip(0, 1)
    assert "Compared with the first photo: crop of the original: 80 % of its width" in tip
    assert "Compared with" not in made.card_tooltip(0, 0)

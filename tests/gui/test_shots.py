"""The similar-shots view, verdict badges and the capture metadata in the compare view
(issue 9), over a real scan of a burst."""

from __future__ import annotations

import pytest
from PIL import ImageFilter

from desktop_app.demo import synthetic_photo
from desktop_app.demo.shots import burst_frame, capture_exif, strip_metadata
from desktop_app.engine.types import VerdictKind
from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.cleanup.apply_dialogs import ApplyDialog
from desktop_app.gui.groups.cards import verdict_tooltip
from tests.gui.factories import differing_rows


@pytest.fixture
def burst(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    picture = synthetic_photo(11, (480, 320))
    picture.save(folder / "IMG_0.jpg", quality=90, exif=capture_exif(subsec="00"))
    for n, subsec in ((1, "25"), (2, "50")):
        frame = burst_frame(picture, "moved", 0.01 * n).filter(ImageFilter.GaussianBlur(n))
        frame.save(folder / f"IMG_{n}.jpg", quality=90, exif=capture_exif(subsec=subsec))
    (folder / "IMG_0_stripped.jpg").write_bytes(strip_metadata((folder / "IMG_0.jpg").read_bytes()))
    return folder


@pytest.fixture
def window(qtbot, settings, tmp_path, burst):
    made = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
    qtbot.addWidget(made)
    made.resize(1200, 800)
    made.show()
    assert made.open_folders([str(burst)])
    session = made.session
    qtbot.waitUntil(
        lambda: (
            not session.index.is_running()
            and session._pairs_token is None
            and session.grouping is not None
        ),
        timeout=30_000,
    )
    return made


def test_bursts_appear_in_the_similar_shots_view_with_sharpness(qtbot, window, tmp_path):
    window.shots_dock.show()
    panel = window.shots_panel
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1)
    group = panel.tree.topLevelItem(0)
    assert group.childCount() == 3
    rows = [[group.child(k).text(c) for c in range(4)] for k in range(3)]
    assert [r[0].removeprefix("★ ") for r in rows] == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"]
    assert rows[0][0].startswith("★ ") and "(sharpest)" in rows[0][3]  # the frames are blurred
    assert all(r[1].startswith("2024-05-01 14:22:48.") for r in rows)
    assert all(r[2] == "1/250 s f/2.8 ISO 200" for r in rows)
    assert all(float(r[3].split()[0].replace(",", "")) > 0 for r in rows)
    assert "1 group of similar shots" in panel.summary.text()
    panel.grab().save(str(tmp_path / "shots.png"))

    # Keep the sharpest: nothing is marked until asked, and then through the dry run.
    assert not window.cleanup.marks.plan().marked
    panel.tree.setCurrentItem(group.child(1))
    with qtbot.waitSignal(panel.keep_requested) as asked:
        panel.keep_one.click()
    plan = asked.args[0]
    assert sorted(r.record.name for r in plan.marked) == ["IMG_1.jpg", "IMG_2.jpg"]
    dialog = window.cleanup.flow.dialog
    assert isinstance(dialog, ApplyDialog)
    qtbot.waitUntil(lambda: dialog.previewed is not None, timeout=10_000)
    assert (tmp_path / "photos" / "IMG_1.jpg").exists()  # a dry run changes nothing
    dialog.reject()


def test_cards_carry_the_verdict_and_compare_shows_the_capture(qtbot, window, tmp_path):
    model = window.groups.model
    assert model.rowCount() == 1  # the original and its stripped copy; frames are no copies
    group = model.group(0)
    assert {m.image.name for m in group.members} == {"IMG_0.jpg", "IMG_0_stripped.jpg"}
    copy = group.members[1]
    assert copy.verdict is not None and copy.verdict.kind is VerdictKind.SAME_PIXELS
    tip = window.view.card_tooltip(0, 1)
    assert "SAME PIXELS: same pixels, other metadata" in tip
    assert verdict_tooltip(copy.verdict) in tip
    window.view.grab().save(str(tmp_path / "cards.png"))

    dialog = window.compare(group.members[0].image, copy.image)
    qtbot.addWidget(dialog)
    labels = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())]
    captured = labels.index("Capture time")
    assert dialog.table.item(captured, 0).text() == "2024-05-01 14:22:48.00"
    assert dialog.table.item(captured, 1).text() == ""
    assert "Capture time" in differing_rows(dialog)
    assert "Pixel digest" not in differing_rows(dialog)
    assert "SAME PIXELS" in dialog.verdict.text()
    dialog.close()

"""Widgets on their own: histogram and slider, drop classification, settings."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QImage

from desktop_app.engine.config import DEFAULT_THRESHOLD, MAX_THRESHOLD
from desktop_app.gui.common import settings as keys
from desktop_app.gui.groups.histogram import DistanceHistogram, ThresholdControl
from desktop_app.gui.query.dropping import classify, image_bytes
from tests.gui.factories import write_photo


def test_histogram_counts_threshold_and_click(qtbot):
    histogram = DistanceHistogram()
    qtbot.addWidget(histogram)
    histogram.resize(170, 50)
    histogram.set_counts([5, 3, 0, 1], reach=MAX_THRESHOLD)
    assert histogram.counts()[:4] == [5, 3, 0, 1] and len(histogram.counts()) == MAX_THRESHOLD + 1
    histogram.set_threshold(2)
    assert "8 pairs within distance 2" in histogram.toolTip()
    histogram.show()
    assert not histogram.grab().isNull()
    with qtbot.waitSignal(histogram.picked) as blocker:
        qtbot.mouseClick(histogram, Qt.MouseButton.LeftButton, pos=QPointF(165, 25).toPoint())
    assert blocker.args == [MAX_THRESHOLD]
    assert histogram.distance_at(2) == 0


def test_threshold_control_moves_histogram_marker(qtbot):
    control = ThresholdControl("Threshold")
    qtbot.addWidget(control)
    with qtbot.waitSignal(control.value_changed) as blocker:
        control.set_value(7)
    assert blocker.args == [7]
    assert control.value_label.text() == "≤ 7"
    control.set_value(99)
    assert control.value() == MAX_THRESHOLD


def test_classify_drops(tmp_path):
    photo = write_photo(tmp_path / "a.jpg", seed=1)
    folder = tmp_path / "lib"
    folder.mkdir()
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(folder)),
            QUrl.fromLocalFile(str(photo)),
            QUrl("https://example.com/x.jpg"),
            QUrl.fromLocalFile(str(tmp_path / "gone.jpg")),
        ]
    )
    found = classify(mime)
    assert found.folders == [str(folder)]
    assert found.files == [str(photo)]
    assert found.rejected == ["https://example.com/x.jpg", str(tmp_path / "gone.jpg")]

    pasted = QMimeData()
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    pasted.setImageData(image)
    found = classify(pasted)
    assert found.image is not None and not found.folders
    assert image_bytes(found.image).startswith(b"\x89PNG")

    text = QMimeData()
    text.setText(str(photo))
    assert classify(text).files == [str(photo)]
    assert classify(QMimeData()).is_empty()


def test_settings_defaults_round_trip_and_bad_values(settings, allowed_warnings):
    allowed_warnings.append("Ignoring a bad value")
    assert settings.threshold() == DEFAULT_THRESHOLD
    settings.set(keys.THRESHOLD, 7)
    settings.set(keys.ROTATIONS, True)
    settings.sync()
    assert settings.threshold() == 7
    assert settings.engine_config().rotations is True
    assert settings.engine_config().workers >= 1  # 0 in the settings: one per core
    settings.set(keys.WORKERS, 3)
    assert settings.engine_config().workers == 3
    settings.set(keys.THRESHOLD, "seven")
    assert settings.threshold() == DEFAULT_THRESHOLD
    for k in range(12):
        settings.add_recent_library([f"/photos/{k}"])
    settings.add_recent_library(["/photos/3"])
    recent = settings.recent_libraries()
    assert recent[0] == ["/photos/3"] and len(recent) == keys.MAX_RECENT
    settings.set(keys.RECENT_LIBRARIES, "{not json")
    assert settings.recent_libraries() == []


def test_default_settings_go_to_the_test_folder(private_settings):
    store = keys.Settings()
    store.set(keys.THRESHOLD, 3)
    store.sync()
    assert store._store.fileName().startswith(private_settings)

"""Sizes and durations read the same in the engine's notes, the CLI and the window."""

import pytest

from desktop_app.engine.units import format_duration, human_size


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 KB"),
        (48_211, "48.2 KB"),
        (310_000, "310 KB"),
        (2_400_000, "2.4 MB"),
        (7_500_000_000, "7.5 GB"),
        (3 * 10**15, "3000 TB"),
    ],
)
def test_human_size(n, text):
    assert human_size(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (125, "2:05"), (3723, "1:02:03")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_a_path_is_within_a_folder_not_a_name_prefix():
    from desktop_app.engine.paths import is_within, within_any

    assert is_within("/photos/a.jpg", "/photos") and is_within("/photos/a.jpg", "/photos/")
    assert is_within("/photos", "/photos") and is_within("/photos/x/y.jpg", "/")
    assert not is_within("/photos2/a.jpg", "/photos")
    assert not is_within("/photo", "/photos")
    assert within_any("/b/c.jpg", ["/a", "/b"]) and not within_any("/c.jpg", ["/a", "/b"])

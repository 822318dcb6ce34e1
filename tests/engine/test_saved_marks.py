"""Marks not applied yet are kept in the catalog, by library and by path."""

from desktop_app.engine.catalog import rebuild
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.library import Library
from desktop_app.engine.selection import saved_marks
from desktop_app.engine.types import SavedMarks


def test_marks_round_trip_by_library(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    path = tmp_path / "catalog.sqlite"
    kept = SavedMarks(True, {str(one / "a.jpg"): True, str(one / "é b.jpg"): False})
    with Library([one], catalog=path) as library:
        assert library.saved_marks() == SavedMarks()
        library.save_marks(kept)
    with Library([one], catalog=path) as library:
        assert library.saved_marks() == kept
    with Library([one, two], catalog=path) as both:  # another library: its own marks
        assert both.saved_marks() == SavedMarks()
        both.save_marks(SavedMarks(False, {str(two / "c.jpg"): True}))
    with Library([one], catalog=path) as library:
        assert library.saved_marks() == kept
        library.save_marks(SavedMarks())  # nothing marked: nothing kept
        assert library.saved_marks() == SavedMarks()
    with Catalog(path) as catalog:
        assert saved_marks.load(catalog, [str(two), str(one)]).marks == {str(two / "c.jpg"): True}


def test_a_rebuilt_catalog_keeps_the_marks(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    path = tmp_path / "catalog.sqlite"
    kept = SavedMarks(False, {str(folder / "a.jpg"): True})
    with Library([folder], catalog=path) as library:
        library.save_marks(kept)
    rebuild.rebuild_catalog(path)
    with Library([folder], catalog=path) as library:
        assert library.saved_marks() == kept

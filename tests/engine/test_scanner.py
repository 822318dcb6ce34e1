"""Scanning: what the walk finds, what a re-scan redoes, cancelling, bad folders."""

import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.imaging import hashing
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import Phase, ScanSummary, drain

CONFIG = EngineConfig(workers=0)


def _photo(path: Path, colour=(200, 30, 30), size=(64, 48), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 8):  # some structure, so the hash is not degenerate
        image.paste((x * 3 % 255, 90, 255 - x), (x, 0, x + 4, size[1] // 2))
    image.save(path, format=fmt or "JPEG")
    return path


class CountingHasher:
    """Wraps the real hasher and remembers which files it was asked to read."""

    def __init__(self):
        self.paths: list[str] = []

    def __call__(self, path, config):
        self.paths.append(path)
        return hashing.hash_file(path, config)


def _scan(catalog, roots, config=CONFIG, hasher=None, cancel=None) -> ScanSummary:
    steps = scanner.scan(
        catalog, [str(r) for r in roots], config, cancel, hasher=hasher or hashing.hash_file
    )
    return drain(steps)


def _found(root: Path, config=CONFIG):
    found = scanner.walk(str(root), config)
    return sorted(Path(f.path).relative_to(root).as_posix() for f in found)


def test_the_walk_finds_images_by_extension_and_by_content(tmp_path):
    _photo(tmp_path / "a.jpg")
    _photo(tmp_path / "sub" / "b.PNG", fmt="PNG")
    _photo(tmp_path / "no_extension", fmt="JPEG")
    _photo(tmp_path / "odd.dat", fmt="PNG")
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "sidecar.xmp").write_text("<x:xmpmeta/>")
    (tmp_path / "random.bin").write_bytes(os.urandom(300))
    assert _found(tmp_path) == ["a.jpg", "no_extension", "odd.dat", "sub/b.PNG"]


def test_hidden_and_system_folders_are_skipped_unless_asked(tmp_path):
    _photo(tmp_path / "a.jpg")
    _photo(tmp_path / ".thumbnails" / "t.jpg")
    _photo(tmp_path / "@eaDir" / "s.jpg")
    _photo(tmp_path / ".hidden.jpg")
    assert _found(tmp_path) == ["a.jpg"]
    everything = EngineConfig(workers=0, skip_hidden=False)
    # Thumbnail caches stay out even then (config.KNOWN_BUNDLES).
    assert _found(tmp_path, everything) == [".hidden.jpg", "a.jpg"]


def test_symlink_loops_end_and_each_file_counts_once(tmp_path):
    _photo(tmp_path / "album" / "a.jpg")
    (tmp_path / "album" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "album" / "again.jpg").symlink_to(tmp_path / "album" / "a.jpg")
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert _found(tmp_path) == ["album/a.jpg"]


def test_an_unreadable_folder_is_reported_and_its_photos_are_not_forgotten(tmp_path, monkeypatch):
    _photo(tmp_path / "ok" / "a.jpg")
    _photo(tmp_path / "locked" / "b.jpg")
    with Catalog(":memory:") as catalog:
        first = _scan(catalog, [tmp_path])
        assert first.added == 2
        real_scandir = os.scandir

        def scandir(path):
            if str(path).endswith("locked"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(scanner.os, "scandir", scandir)
        second = _scan(catalog, [tmp_path])
        assert second.removed == 0
        assert [f.reason for f in second.failures] == ["folder cannot be read: Permission denied"]
        assert catalog.count() == (2, 0)


def test_a_rescan_reads_only_what_changed(tmp_path):
    a = _photo(tmp_path / "a.jpg")
    b = _photo(tmp_path / "b.jpg", colour=(10, 200, 10))
    c = _photo(tmp_path / "c.jpg", colour=(10, 10, 200))
    with Catalog(":memory:") as catalog:
        hasher = CountingHasher()
        summary = _scan(catalog, [tmp_path], hasher=hasher)
        assert (summary.added, summary.updated, summary.removed) == (3, 0, 0)
        old_b = catalog.record_at(str(b))

        hasher = CountingHasher()
        summary = _scan(catalog, [tmp_path], hasher=hasher)
        assert hasher.paths == []
        assert summary.unchanged == 3

        _photo(b, colour=(250, 250, 0))
        os.utime(b, ns=(1, 1))
        c.unlink()
        hasher = CountingHasher()
        summary = _scan(catalog, [tmp_path], hasher=hasher)
        assert hasher.paths == [str(b)]
        assert (summary.added, summary.updated, summary.removed) == (0, 1, 1)
        new_b = catalog.record_at(str(b))
        assert new_b.id != old_b.id and new_b.digest != old_b.digest
        assert catalog.record_at(str(c)) is None
        assert catalog.record_at(str(a)) is not None


def test_a_new_hashing_version_rehashes_everything(tmp_path, monkeypatch):
    _photo(tmp_path / "a.jpg")
    with Catalog(":memory:") as catalog:
        _scan(catalog, [tmp_path])
        monkeypatch.setattr(hashing, "HASH_VERSION", hashing.HASH_VERSION + 1)
        hasher = CountingHasher()
        summary = _scan(catalog, [tmp_path], hasher=hasher)
        assert summary.updated == 1 and len(hasher.paths) == 1


def test_unreadable_files_are_recorded_once_with_their_reason(tmp_path):
    _photo(tmp_path / "good.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "fake.png").write_text("I am text")
    with Catalog(":memory:") as catalog:
        summary = _scan(catalog, [tmp_path])
        reasons = {Path(f.path).name: f.reason for f in summary.failures}
        assert set(reasons) == {"empty.jpg", "fake.png"}
        assert all(reasons.values())
        assert catalog.count() == (1, 2)
        hasher = CountingHasher()
        again = _scan(catalog, [tmp_path], hasher=hasher)
        assert hasher.paths == [] and again.failures == ()
        assert len(catalog.failures()) == 2


def test_a_file_that_vanishes_before_it_is_read_is_dropped(tmp_path):
    _photo(tmp_path / "a.jpg")
    doomed = _photo(tmp_path / "b.jpg")

    def vanishing(path, config):
        if path == str(doomed):
            doomed.unlink()
        return hashing.hash_file(path, config)

    with Catalog(":memory:") as catalog:
        summary = _scan(catalog, [tmp_path], hasher=vanishing)
        assert summary.failures == ()
        assert [r.path for r in catalog.all_records()] == [str(tmp_path / "a.jpg")]


def test_cancelling_keeps_the_work_done_and_the_next_scan_resumes(tmp_path):
    for i in range(12):
        _photo(tmp_path / f"{i:02d}.jpg", colour=(i * 20, 100, 200 - i * 10))
    cancel = threading.Event()
    with Catalog(":memory:") as catalog:
        steps = scanner.scan(
            catalog, [str(tmp_path)], EngineConfig(workers=0, batch_size=2), cancel
        )
        hashed = 0
        with pytest.raises(StopIteration) as stop:
            while True:
                report = next(steps)
                if report.phase is Phase.HASHING and report.done == 5:
                    cancel.set()
                hashed = max(hashed, report.done if report.phase is Phase.HASHING else 0)
        summary = stop.value.value
        assert summary.cancelled
        assert catalog.count() == (5, 0)
        assert catalog.roots()[0].scanned_ns is None
        hasher = CountingHasher()
        resumed = _scan(catalog, [tmp_path], hasher=hasher)
        assert len(hasher.paths) == 7 and resumed.added == 7 and not resumed.cancelled
        assert catalog.count() == (12, 0)
        assert catalog.roots()[0].scanned_ns is not None


def test_progress_reports_count_rate_and_time_left(tmp_path):
    for i in range(4):
        _photo(tmp_path / f"{i}.jpg", colour=(i * 50, 0, 0))
    with Catalog(":memory:") as catalog:
        reports = list(scanner.scan(catalog, [str(tmp_path)], CONFIG))
    hashing_reports = [r for r in reports if r.phase is Phase.HASHING]
    # Hashing starts while the walk runs: the total is known once the walk has ended.
    assert hashing_reports[0].done == 1 and hashing_reports[0].total in (None, 4)
    last = hashing_reports[-1]
    assert (last.done, last.total) == (4, 4)
    assert last.rate > 0 and last.eta == 0
    assert last.current is not None and last.current.endswith(".jpg")


def test_the_process_pool_gives_the_same_catalog(tmp_path):
    for i in range(20):
        _photo(tmp_path / f"{i:02d}.jpg", colour=(i * 12, 255 - i * 12, 60))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    results = []
    for workers in (0, 2):
        with Catalog(":memory:") as catalog:
            summary = _scan(catalog, [tmp_path], EngineConfig(workers=workers))
            assert summary.added == 21
            results.append([(r.path, r.phash, r.digest, r.error) for r in catalog.all_records()])
    assert results[0] == results[1]


def test_missing_or_non_folder_roots_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="No such folder"):
        scanner.normalise_root(tmp_path / "missing")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(UsageError, match="Not a folder"):
        scanner.normalise_root(tmp_path / "file.jpg")

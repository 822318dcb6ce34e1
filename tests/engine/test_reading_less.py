"""Reading less, on slow disks: RAW previews only, digests where sizes collide, one reader
on slow storage, hashing while the walk runs, a memory budget for decoding (issue 11)."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import budget, hashing, reading
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import FileFailure, ImageFeatures, Phase, drain
from tests.engine.test_heif_raw import tiny_dng

CONFIG = EngineConfig(workers=0)
linux_io = pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux I/O counters")


def _dng(path: Path, seed: int, size=(640, 480)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_dng(synthetic_photo(seed, size), preview=True))
    return path


def _records(catalog: Catalog) -> dict[str, object]:
    return {Path(r.path).name: r for r in catalog.all_records()}


# --- item 8: RAW files are read as far as their preview; digests where sizes collide --------


@linux_io
def test_a_raw_file_is_hashed_from_its_preview_without_reading_the_sensor_data(tmp_path):
    path = _dng(tmp_path / "DSC_0001.dng", 1)
    hashing.hash_file(str(_dng(tmp_path / "warm.dng", 2)), CONFIG)  # imports, plugin setup
    reader = reading.Reader()
    reading.use(reader)
    try:
        result = hashing.hash_file(str(path), CONFIG)
    finally:
        reading.use(reading.Reader())
    assert isinstance(result, ImageFeatures) and result.format == "DNG"
    size = path.stat().st_size  # mostly the 16-bit mosaic (600 KB); the preview is ~40 KB
    assert 0 < reader.bytes_read < size / 3
    assert result.digest is None  # not read whole, so not digested while hashing


def test_other_formats_are_digested_while_hashing(tmp_path):
    path = tmp_path / "a.jpg"
    synthetic_photo(3, (320, 240)).save(path)
    result = hashing.hash_file(str(path), CONFIG)
    assert isinstance(result, ImageFeatures) and result.digest is not None


def test_raw_files_of_equal_size_get_their_digest_and_others_do_not(tmp_path):
    first = _dng(tmp_path / "a" / "DSC_0001.dng", 1)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "copy.dng").write_bytes(first.read_bytes())  # byte-identical
    _dng(tmp_path / "a" / "DSC_0002.dng", 2, size=(600, 400))  # a size of its own
    with Catalog(":memory:") as catalog:
        drain(scanner.scan(catalog, [str(tmp_path)], CONFIG))
        found = _records(catalog)
        assert found["DSC_0001.dng"].digest is not None
        assert found["DSC_0001.dng"].digest == found["copy.dng"].digest
        assert found["DSC_0002.dng"].digest is None
        # A later copy of the lone file: the next scan digests both.
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "later.dng").write_bytes((tmp_path / "a" / "DSC_0002.dng").read_bytes())
        drain(scanner.scan(catalog, [str(tmp_path)], CONFIG))
        found = _records(catalog)
        assert found["DSC_0002.dng"].digest is not None
        assert found["DSC_0002.dng"].digest == found["later.dng"].digest


def test_raw_thumbnails_come_from_the_preview(tmp_path):
    from desktop_app.engine.imaging.loading import open_oriented

    path = _dng(tmp_path / "DSC_0003.dng", 3)
    image = open_oriented(str(path), 200)
    assert max(image.size) == 200 and image.mode == "RGB"


# --- item 9: one reader on slow storage, hashing during the walk -----------------------------


def test_network_and_rotational_storage_get_one_reader(monkeypatch, tmp_path):
    monkeypatch.setattr(reading, "_mount_of", lambda path: ("/mnt/nas", "nfs4", "nas:/photos"))
    assert reading.storage_kind(str(tmp_path)) == "network"
    assert reading.readers_for([str(tmp_path)], 8, None) == 1
    assert reading.readers_for([str(tmp_path)], 8, 3) == 3  # the setting wins
    monkeypatch.setattr(reading, "_mount_of", lambda path: ("/", "ext4", "/dev/sda1"))
    monkeypatch.setattr(reading, "_is_rotational", lambda major, minor: True)
    assert reading.storage_kind(str(tmp_path)) == "rotational"
    monkeypatch.setattr(reading, "_is_rotational", lambda major, minor: False)
    assert reading.storage_kind(str(tmp_path)) == "solid"
    assert reading.readers_for([str(tmp_path)], 8, None) == 8


def test_storage_of_a_real_folder_is_told_without_error(tmp_path):
    assert reading.storage_kind(str(tmp_path)) in {"network", "rotational", "solid"}


def test_the_gate_lets_one_reader_at_a_time(tmp_path):
    gate = reading.Reader.shared(1)
    inside = []
    most = [0]

    def read() -> None:
        with gate.turn():
            inside.append(1)
            most[0] = max(most[0], len(inside))
            time.sleep(0.01)
            inside.pop()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_the_simulated_disk_counts_a_seek_for_each_interleaved_read(tmp_path, monkeypatch):
    slept = []
    monkeypatch.setattr(reading.time, "sleep", slept.append)
    disk = reading.SimulatedDisk(seek_ms=10.0, mb_per_s=1.0, request_kb=reading.CHUNK // 1024)
    reader = reading.Reader(disk=disk)
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (2 * reading.CHUNK))
    fd = os.open(path, os.O_RDONLY)
    try:
        data = reader.read_all(fd, 1)
        sequential = sum(slept)
        slept.clear()
        reader._charge(1, 0, reading.CHUNK)  # the same file ...
        reader._charge(2, 0, reading.CHUNK)  # ... and another in between
        reader._charge(1, reading.CHUNK, reading.CHUNK)
        interleaved = sum(slept)
    finally:
        os.close(fd)
    assert len(data) == 2 * reading.CHUNK and reader.bytes_read == len(data)
    transfer = 2 * reading.CHUNK / 1e6
    assert sequential == pytest.approx(transfer + 0.010)  # one seek
    assert interleaved == pytest.approx(1.5 * transfer + 0.030)  # a seek for each


def _slow_walk(files: list[Path], release: threading.Event, after: int):
    def walk(root, config, state=None):
        for i, path in enumerate(files):
            if i == after:
                release.wait(10)  # the rest of the walk waits for the test to say so
            info = path.stat()
            yield scanner.FoundFile(str(path), info.st_size, info.st_mtime_ns)

    return walk


def test_hashing_starts_while_the_walk_runs(tmp_path, monkeypatch):
    files = []
    for i in range(12):
        files.append(tmp_path / f"{i:02d}.jpg")
        synthetic_photo(i, (96, 64)).save(files[-1])
    release = threading.Event()
    monkeypatch.setattr(scanner, "walk", _slow_walk(files, release, after=10))
    hashed_during_walk = 0
    with Catalog(":memory:") as catalog:
        for report in scanner.scan(catalog, [str(tmp_path)], CONFIG):
            if report.phase is Phase.HASHING and not release.is_set():
                hashed_during_walk = report.done
                assert report.total is None  # not known until the walk ends
                release.set()
        assert hashed_during_walk >= 1
        assert catalog.count()[0] == 12


def test_a_cancelled_walk_keeps_what_it_found_and_removes_nothing(tmp_path, monkeypatch):
    files = []
    for i in range(12):
        files.append(tmp_path / f"{i:02d}.jpg")
        synthetic_photo(i, (96, 64)).save(files[-1])
    with Catalog(":memory:") as catalog:
        drain(scanner.scan(catalog, [str(tmp_path)], CONFIG))  # all 12 known
        for path in files:
            os.utime(path, ns=(1, 1))  # all changed: to be hashed again
        release = threading.Event()
        cancel = threading.Event()
        monkeypatch.setattr(scanner, "walk", _slow_walk(files, release, after=10))
        steps = scanner.scan(catalog, [str(tmp_path)], CONFIG, cancel)
        try:
            while True:
                report = next(steps)
                if report.phase is Phase.HASHING and report.done >= 2:
                    cancel.set()
                    release.set()
        except StopIteration as stop:
            summary = stop.value
        assert summary.cancelled and summary.removed == 0
        paths = {Path(r.path).name for r in catalog.all_records()}
        assert paths == {p.name for p in files}  # the files not walked are still there
        rehashed = [r for r in catalog.all_records() if r.mtime_ns == 1]
        assert len(rehashed) >= 2  # what was hashed before the cancel was kept


# --- item 11: decoding at reduced size, within a memory budget -------------------------------


def test_jpeg2000_decodes_at_a_reduced_resolution_level():
    picture = synthetic_photo(5, (2048, 1536))
    stream = io.BytesIO()
    picture.save(stream, "JPEG2000")
    image = Image.open(io.BytesIO(stream.getvalue()))
    hashing.reduce_on_decode(image)
    image.load()
    assert image.size == (512, 384)  # 1/4 on each side: >= 256 px kept on the short side
    full = hashing.hash_bytes(stream.getvalue(), "big.jp2", CONFIG)
    png = io.BytesIO()
    picture.save(png, "PNG")
    reference = hashing.hash_bytes(png.getvalue(), "big.png", CONFIG)
    assert bin(full.phash ^ reference.phash).count("1") <= 4


def test_decoded_size_is_estimated_from_the_header():
    assert budget.decoded_bytes(Image.new("RGB", (1000, 500))) == 2_000_000
    assert budget.decoded_bytes(Image.new("L", (1000, 500))) == 500_000
    assert budget.decoded_bytes(Image.new("I;16", (100, 100))) == 20_000


def test_the_budget_keeps_large_decodes_from_overlapping():
    shared = budget.MemoryBudget.shared(100 << 20)
    inside = []
    most = [0]

    def decode(size: int) -> None:
        with shared.hold(size):
            inside.append(size)
            most[0] = max(most[0], len(inside))
            time.sleep(0.02)
            inside.remove(size)

    big = [threading.Thread(target=decode, args=(60 << 20,)) for _ in range(3)]
    for thread in big:
        thread.start()
    for thread in big:
        thread.join()
    assert most[0] == 1  # 60 MB + 60 MB does not fit in 100 MB
    most[0] = 0
    small = [threading.Thread(target=decode, args=(30 << 20,)) for _ in range(3)]
    for thread in small:
        thread.start()
    for thread in small:
        thread.join()
    assert most[0] >= 2  # three times 30 MB fit
    with shared.hold(500 << 20):  # larger than the whole budget: decodes, alone
        pass


def test_a_scan_in_a_pool_with_one_reader_and_a_small_budget_hashes_everything(tmp_path):
    for i in range(10):
        synthetic_photo(i, (320, 240)).save(tmp_path / f"{i}.png")
    config = EngineConfig(workers=2, readers=1, memory_budget=1 << 20)
    with Catalog(":memory:") as catalog:
        summary = drain(scanner.scan(catalog, [str(tmp_path)], config))
        assert summary.added == 10 and not summary.failures
        assert all(r.digest is not None for r in catalog.all_records())


def test_a_raw_file_that_changes_while_read_is_reported(tmp_path, monkeypatch):
    path = _dng(tmp_path / "DSC_0009.dng", 9)
    real = hashing.open_raw_file

    def touch_then_open(name, max_pixels, **kwargs):
        os.utime(name, ns=(5, 5))
        return real(name, max_pixels, **kwargs)

    monkeypatch.setattr(hashing, "open_raw_file", touch_then_open)
    result = hashing.hash_file(str(path), CONFIG)
    assert isinstance(result, FileFailure) and result.reason == "changed while being read"


def test_raw_files_without_a_digest_can_still_be_marked_not_copies(tmp_path):
    from desktop_app.engine.selection import not_copies

    _dng(tmp_path / "DSC_0001.dng", 1)
    _dng(tmp_path / "DSC_0002.dng", 2, size=(600, 400))
    with Catalog(":memory:") as catalog:
        drain(scanner.scan(catalog, [str(tmp_path)], CONFIG))
        records = catalog.all_records()
        assert all(r.digest is None for r in records)
        assert not_copies.ignore(catalog, records) == 1
        assert all(r.digest is not None for r in catalog.all_records())  # stored on the way
        assert not_copies.unignore_records(catalog, catalog.all_records()) == 1


def test_a_query_with_the_bytes_of_an_undigested_raw_file_finds_it_identical(tmp_path):
    from desktop_app.engine.library import Library

    root = tmp_path / "photos"
    path = _dng(root / "DSC_0001.dng", 1)
    with Library([root], catalog=tmp_path / "c.sqlite", config=CONFIG) as library:
        drain(library.scan())
        assert library.catalog.all_records()[0].digest is None
        result = library.query(path.read_bytes())
        assert [m.identical for m in result.matches] == [True]

"""Hashing on a Dask cluster (a LocalCluster here) gives the catalog a local scan gives."""

import dataclasses
import threading
import types

import pytest
from PIL import Image

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.imaging import hashing
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import Phase, drain

pytestmark = [
    # distributed's own start-up and shutdown warn about ports and resources it tidies.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    for k in range(24):
        image = Image.new("RGB", (64, 48), (k * 10 % 255, 40, 200 - k * 5))
        for x in range(0, 64, 8):
            image.paste(((x * k) % 255, 90, 255 - x), (x, 0, x + 4 + k % 4, 24))
        image.save(root / f"p{k:02}.jpg", quality=90)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return root


def _catalog_of(catalog):
    rows = catalog.execute("SELECT path, phash, digest, error FROM images ORDER BY path")
    return [tuple(r) for r in rows]


def test_a_dask_scan_writes_what_a_local_scan_writes(tmp_path, photos, scheduler):
    local = EngineConfig(workers=0)
    with Catalog(tmp_path / "local.sqlite") as a, Catalog(tmp_path / "dask.sqlite") as b:
        drain(scanner.scan(a, [str(photos)], local))
        reports = []
        steps = scanner.scan(b, [str(photos)], dataclasses.replace(local, dask=scheduler))
        try:
            while True:
                reports.append(next(steps))
        except StopIteration as stop:
            summary = stop.value
        assert _catalog_of(a) == _catalog_of(b)
        assert summary.added == 25 and len(summary.failures) == 1
        hashing_reports = [r for r in reports if r.phase is Phase.HASHING]
        assert hashing_reports[-1].done == hashing_reports[-1].total == 25


def test_cancelling_a_dask_scan_keeps_its_work_and_the_next_scan_resumes(
    tmp_path, photos, scheduler
):
    config = EngineConfig(workers=0, dask=scheduler, batch_size=1)
    cancel = threading.Event()
    with Catalog(tmp_path / "c.sqlite") as catalog:
        steps = scanner.scan(catalog, [str(photos)], config, cancel)
        try:
            for report in steps:
                if report.phase is Phase.HASHING and report.done >= 3:
                    cancel.set()
        except StopIteration:
            pass
        first = catalog.count()
        assert 3 <= first[0] + first[1] < 25
        second = drain(scanner.scan(catalog, [str(photos)], EngineConfig(workers=0)))
        assert second.added == 25 - (first[0] + first[1])
        assert catalog.count() == (24, 1)


def _killing_hasher(path, config):
    """Hashes like the real one, but p03.jpg "kills its worker" as Dask reports it."""
    from distributed import KilledWorker

    if path.endswith("p03.jpg"):
        raise KilledWorker("hash", types.SimpleNamespace(address="tcp://worker:1"), 3)
    return hashing.hash_file(path, config)


def test_a_file_that_kills_its_worker_costs_that_file(tmp_path, photos, scheduler):
    """A batch lost with its worker is hashed again file by file; only the bad file fails."""
    with Catalog(tmp_path / "k.sqlite") as catalog:
        config = EngineConfig(workers=0, dask=scheduler)
        summary = drain(scanner.scan(catalog, [str(photos)], config, hasher=_killing_hasher))
        assert sorted(f.path.rsplit("/", 1)[1] for f in summary.failures) == [
            "broken.jpg",
            "p03.jpg",
        ]
        assert catalog.count() == (23, 2)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, photos, monkeypatch):
    from desktop_app.engine.scan import dask_pool

    monkeypatch.setattr(dask_pool, "CONNECT_TIMEOUT", 1.0)
    config = EngineConfig(workers=0, dask="tcp://127.0.0.1:9")
    with (
        Catalog(tmp_path / "u.sqlite") as catalog,
        pytest.raises(UsageError, match="Dask scheduler"),
    ):
        drain(scanner.scan(catalog, [str(photos)], config))

"""Fixtures for the engine tests: catalogs in memory and on disk."""

import pytest

from desktop_app.engine.catalog.store import Catalog


@pytest.fixture(params=["memory", "file"])
def catalog(request, tmp_path):
    """The same tests run against an in-memory catalog and a file in WAL mode."""
    path = ":memory:" if request.param == "memory" else tmp_path / "catalog.sqlite"
    with Catalog(path) as opened:
        yield opened

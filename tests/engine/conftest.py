"""Fixtures for the engine tests: catalogs in memory and on disk."""

import pytest

from desktop_app.engine.catalog.store import Catalog


@pytest.fixture(params=["memory", "file"])
def catalog(request, tmp_path):
    """The same tests run against an in-memory catalog and a file in WAL mode."""
    path = ":memory:" if request.param == "memory" else tmp_path / "catalog.sqlite"
    with Catalog(path) as opened:
        yield opened


@pytest.fixture(params=["compiled", "numpy"])
def search_loop(request, monkeypatch):
    """The segment joins verify candidates with the compiled loop, and (as where numba
    is missing) with the numpy one: the exactness tests run on both."""
    from desktop_app.engine.search import kernels

    if request.param == "numpy":
        monkeypatch.setattr(kernels, "compiled", lambda: False)
    else:
        assert kernels.compiled(), "numba is a dependency: the compiled loop must load"
    return request.param

"""The stored geometric verdicts of a group are read at once, as one by one."""

from __future__ import annotations

import json

import numpy as np

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.search import confirm
from desktop_app.engine.types import Grouping

from .factories import features


def _digest(k: int) -> bytes:
    return k.to_bytes(16, "big")


def _verdict(catalog, first: int, second: int, transform: int, confirmed: bool, note: str):
    catalog.execute(
        "INSERT INTO geometry_checks(first, second, transform, confirmed, evidence, cropped,"
        " frame) VALUES(?, ?, ?, ?, ?, ?, ?)",
        (
            _digest(first),
            _digest(second),
            transform,
            int(confirmed),
            json.dumps([note]),
            "a" if transform % 2 else "b",
            json.dumps([0.1, 0.2, 0.9, 0.8]) if transform == 0 else None,
        ),
    )


def _catalogued(catalog, count: int, root: str = "/lib") -> list[int]:
    photos = [features(f"{root}/{k}.jpg", 1 << 63, digest=_digest(k)) for k in range(count)]
    photos.append(features(f"{root}/twin.jpg", 1 << 63, digest=_digest(3)))  # the bytes of 3
    return catalog.add_results(photos, 1)


def test_prefetched_verdicts_are_those_read_one_by_one(catalog, monkeypatch):
    ids = _catalogued(catalog, 8)
    _verdict(catalog, 0, 1, 0, True, "in order")
    _verdict(catalog, 2, 0, 3, True, "swapped, transform 3")
    _verdict(catalog, 2, 0, 1, True, "swapped, transform 1")  # the smallest transform wins
    _verdict(catalog, 0, 3, 5, True, "in order, transform 5")
    _verdict(catalog, 3, 0, 0, True, "swapped")  # its own order wins over the other
    _verdict(catalog, 0, 4, 0, False, "refused")  # not a confirmed verdict
    _verdict(catalog, 3, 3, 0, True, "two files with the same bytes")
    records = catalog.record_table(["/lib"])
    keys = [(ids[0], ids[k]) for k in range(1, 8)] + [(ids[3], ids[8]), (ids[0], ids[0])]
    keys += [(ids[0], 10_000)]  # not a photo of the library
    one_by_one = confirm.stored_checks(catalog, records)
    expected = {key: one_by_one.get(key) for key in keys}
    assert sum(v is not None for v in expected.values()) == 4
    statements = []
    real = catalog.execute
    monkeypatch.setattr(catalog, "execute", lambda *a: statements.append(a[0]) or real(*a))
    prefetched = confirm.stored_checks(catalog, records)
    prefetched.prefetch(keys)
    assert len(statements) == 1
    assert {key: prefetched.get(key) for key in keys} == expected
    assert len(statements) == 1  # every lookup answered by the prefetch


def test_resolving_a_group_reads_its_verdicts_in_one_statement(catalog, monkeypatch, tmp_path):
    ids = _catalogued(catalog, 6, str(tmp_path))
    for k in range(1, 6):
        _verdict(catalog, 0, k, k % 2, True, f"member {k}")
    found = Grouping(
        offsets=np.array([0, 6]),
        members=np.array(ids[:6]),
        distance=np.array([0, 9, 9, 10, 10, 11], dtype=np.uint8),
        transform=np.zeros(6, dtype=np.uint8),
        threshold=12,
    )
    with Library([tmp_path], catalog=catalog, config=EngineConfig(workers=0)) as library:
        library.records()
        statements = []
        real = catalog.execute
        monkeypatch.setattr(catalog, "execute", lambda *a: statements.append(a[0]) or real(*a))
        group = library.resolve(found, 0)
    assert [m.geometry.evidence for m in group.members[1:]] == [
        (f"member {k}",) for k in range(1, 6)
    ]
    assert [m.geometry.cropped for m in group.members[1:]] == ["b", "a", "b", "a", "b"]
    assert sum("geometry_checks" in s for s in statements) == 1


def test_the_verdicts_of_a_large_group_are_looked_up_by_their_key(catalog, monkeypatch):
    """However many pairs are asked for, each is found through the primary key of
    ``geometry_checks``, not by indexing the whole table for the join."""
    ids = _catalogued(catalog, 600)
    for k in range(1, 600, 7):
        _verdict(catalog, 0, k, 0, True, f"member {k}")
    with catalog.transaction() as db:  # verdicts of other photos, as a library keeps
        db.executemany(
            "INSERT INTO geometry_checks(first, second, transform, confirmed, evidence,"
            " cropped) VALUES(?, ?, 0, 1, '[]', '')",
            [(_digest(10_000 + k), _digest(20_000 + k)) for k in range(20_000)],
        )
    records = catalog.record_table(["/lib"])
    asked: list[tuple[str, list]] = []
    real = catalog.execute
    monkeypatch.setattr(
        catalog, "execute", lambda sql, params=(): asked.append((sql, params)) or real(sql, params)
    )
    checks = confirm.stored_checks(catalog, records)
    checks.prefetch((ids[0], i) for i in ids[1:600])
    assert len(asked) >= 2  # in slices
    for sql, params in asked:
        plan = " ".join(row[3] for row in real("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "AUTOMATIC" not in plan and "SEARCH g USING" in plan, plan
    assert sum(checks.get((ids[0], i)) is not None for i in ids[1:600]) == len(range(1, 600, 7))

"""Two Doppel processes on one catalog: nothing is skipped, nothing crashes.

The other process is played inside the test: a commit slipped in at the moment the
first one is between two steps, or a second connection to the same file.
"""

from __future__ import annotations

import numpy as np

from desktop_app.engine.search import pairing

from .factories import features


def _drain(steps):
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        return stop.value


def test_a_photo_committed_during_incremental_pairing_is_paired_later(catalog):
    rng = np.random.default_rng(7)
    hashes = [int(h) for h in rng.integers(0, 2**63, size=60, dtype=np.int64)]
    ids = catalog.add_results([features(f"/lib/{i}.jpg", h) for i, h in enumerate(hashes)], 1)
    _drain(pairing.update_pairs(catalog, 8))
    (copy_of_0,) = catalog.add_results([features("/lib/copy0.jpg", hashes[0])], 1)
    real = catalog.pairs.pending
    late: list[int] = []

    def pending_then_another_process_commits():
        found = real()
        late.extend(catalog.add_results([features("/lib/copy1.jpg", hashes[1])], 1))
        return found

    catalog.pairs.pending = pending_then_another_process_commits
    _drain(pairing.update_pairs(catalog, 8))
    del catalog.pairs.pending
    _drain(pairing.update_pairs(catalog, 8))
    pairs = catalog.pairs.load(0)
    got = sorted(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))
    assert got == [(ids[0], copy_of_0), (ids[1], late[0])]

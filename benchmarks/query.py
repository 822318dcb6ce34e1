"""Query latency of the SQLite segment index on a large catalog.

Builds a catalog of N synthetic hashes (``synthetic.py``: biased bits and clusters of
near-copies, like real pHashes), indexes it, then asks for the photos near a query hash
(a near-copy of a catalog hash, as a dropped photo would be) at several thresholds. The
baseline, measured in the same run, is a numpy brute-force scan of all N hashes held in
memory, which is what a query would cost without the index (and needs the whole
catalog loaded first). Every answer is checked against that brute force.

    python benchmarks/query.py [--hashes 1000000] [--queries 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine_notes
from synthetic import synthetic_hashes

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import MAX_THRESHOLD


def build(path: Path, hashes: np.ndarray) -> Catalog:
    catalog = Catalog(path)
    with catalog.transaction() as db:
        db.executemany(
            "INSERT INTO images(path, size, mtime_ns, hash_version, phash) VALUES(?, 1, 1, 1, ?)",
            ((b"/lib/%d.jpg" % i, v) for i, v in enumerate(hashes.view(np.int64).tolist())),
        )
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    hashes = synthetic_hashes(args.hashes, seed=3)
    ids = np.arange(1, args.hashes + 1, dtype=np.int64)
    with tempfile.TemporaryDirectory(prefix="doppel-query-") as work:
        path = Path(work) / "catalog.sqlite"
        started = time.perf_counter()
        catalog = build(path, hashes)
        inserted = time.perf_counter() - started
        started = time.perf_counter()
        catalog.index.sync()
        indexed = time.perf_counter() - started
        size = sum(f.stat().st_size for f in Path(work).iterdir()) / 1e6
        print(machine_notes())
        print(
            f"{args.hashes} hashes: insert {inserted:.1f} s, index build {indexed:.1f} s, "
            f"catalog {size:.0f} MB on disk"
        )
        queries = [
            int(hashes[i]) ^ (1 << int(rng.integers(0, 63))) ^ (1 << int(rng.integers(0, 63)))
            for i in rng.integers(0, args.hashes, args.queries)
        ]
        print(
            f"{'threshold':>9} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
            f"{'brute ms':>9} {'ratio':>6} {'matches':>8}"
        )
        for threshold in (4, 8, 10, 12, 14, MAX_THRESHOLD):
            times, brute_times, found = [], [], 0
            for value in queries:
                started = time.perf_counter()
                got_ids, got_d = catalog.query(value, threshold)
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
                distances = mih.hamming(hashes, np.uint64(value))
                near = np.flatnonzero(distances <= threshold)
                brute_times.append(time.perf_counter() - started)
                expected = sorted(zip(distances[near].tolist(), ids[near].tolist(), strict=True))
                assert list(zip(got_d.tolist(), got_ids.tolist(), strict=True)) == expected
                found += len(near)
            median = statistics.median(times) * 1000
            p95 = float(np.percentile(times, 95)) * 1000
            brute = statistics.median(brute_times) * 1000
            print(
                f"{threshold:>9} {median:>10.1f} {p95:>8.1f} {max(times) * 1000:>8.1f} "
                f"{brute:>9.1f} {median / brute:>6.2f} {found / len(queries):>8.1f}"
            )
        catalog.close()


if __name__ == "__main__":
    main()

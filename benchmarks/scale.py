"""Scale-out: the SQLite index against Milvus Lite, and a scan on Dask workers.

Part 1, the index. A catalog of N synthetic hashes (``synthetic.py``: biased bits,
clusters of near-copies, 32 ones on average) is indexed by each backend in a process of
its own, so that each one's peak memory is its own (for Milvus Lite, the peak of this
process plus the Milvus server it starts, sampled every 0.1 s):

* insert: SQLite, writing the rows and building the segment index; Milvus Lite,
  ``MilvusIndex.sync`` (rows into the collection, BIN_FLAT index);
* one-photo queries at thresholds 4-16 (median of Q near-copy queries; every answer of
  both backends checked against a numpy brute force);
* all pairs at threshold 10: SQLite's default path (the in-memory MIH search of
  ``all_pairs.py``) over all N; Milvus, batched range searches, over all N when
  ``--milvus-pairs`` is N, else over the first M photos' queries against the full
  collection, scaled to N as a model (labelled so), since each photo's range search
  costs the same whatever photo it is.

Part 2, the scan. F generated JPEGs scanned with the local process pool (all cores),
then on a Dask LocalCluster of 1 and of 2 single-threaded worker processes, each into a
fresh catalog, in the same run; the catalogs are checked equal.

    python benchmarks/scale.py [--hashes 1000000] [--queries 30] [--milvus-pairs 20000]
                               [--files 400]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _common import machine_notes
from synthetic import synthetic_hashes

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.search import all_pairs

THRESHOLDS = (4, 8, 10, 12, 16)
PAIRS_AT = 10


class PeakMemory:
    """Peak resident memory of this process and its children, sampled in a thread."""

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> int:
        total = self._me.memory_info().rss
        for child in self._me.children(recursive=True):
            with contextlib.suppress(Exception):  # gone between listing and reading
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self._sample())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        return self.peak / 1e6


def build(path: Path, hashes: np.ndarray) -> Catalog:
    catalog = Catalog(path)
    with catalog.transaction() as db:
        db.executemany(
            "INSERT INTO images(path, size, mtime_ns, hash_version, phash) VALUES(?, 1, 1, 1, ?)",
            ((b"/lib/%d.jpg" % i, v) for i, v in enumerate(hashes.view(np.int64).tolist())),
        )
    return catalog


def queries_of(hashes: np.ndarray, count: int) -> list[int]:
    rng = np.random.default_rng(7)
    picks = rng.choice(hashes.shape[0], size=count, replace=False)
    return [int(hashes[i]) ^ (1 << int(rng.integers(0, 63))) for i in picks]


def brute(ids: np.ndarray, hashes: np.ndarray, value: int, threshold: int) -> list[int]:
    d = mih.hamming(hashes, np.uint64(value))
    keep = d <= threshold
    order = np.lexsort((ids[keep], d[keep]))
    return ids[keep][order].tolist()


def phase(args: argparse.Namespace) -> dict[str, object]:
    """One backend's measurements, in this (child) process."""
    memory = PeakMemory()
    hashes = synthetic_hashes(args.hashes, seed=3)
    ids = np.arange(1, args.hashes + 1, dtype=np.int64)
    work = Path(args.work)
    out: dict[str, object] = {"backend": args.phase}
    started = time.perf_counter()
    catalog = build(work / f"{args.phase}.sqlite", hashes)
    out["catalog_rows"] = time.perf_counter() - started
    if args.phase == "sqlite":
        started = time.perf_counter()
        catalog.index.sync()
        out["insert"] = out["catalog_rows"] + time.perf_counter() - started  # type: ignore[operator]

        def search(value: int, threshold: int) -> list[int]:
            return catalog.index.query(value, threshold)[0].tolist()
    else:
        from desktop_app.engine.search.milvus_index import MilvusIndex

        index = MilvusIndex(catalog, str(work / "milvus.db"))
        started = time.perf_counter()
        index.sync()
        out["insert"] = time.perf_counter() - started

        def search(value: int, threshold: int) -> list[int]:
            return index.query_synced(value, threshold)[0].tolist()

    queries = queries_of(hashes, args.queries)
    search(queries[0], 16)  # warm up: the first search loads the collection
    latency: dict[str, float] = {}
    for threshold in THRESHOLDS:
        times = []
        for value in queries:
            started = time.perf_counter()
            found = search(value, threshold)
            times.append(time.perf_counter() - started)
            assert found == brute(ids, hashes, value, threshold), (threshold, value)
        latency[str(threshold)] = statistics.median(times)
    out["query"] = latency
    if args.phase == "sqlite":
        started = time.perf_counter()
        pairs = all_pairs.all_pairs(ids, hashes, PAIRS_AT)
        out["pairs_seconds"] = time.perf_counter() - started
        out["pairs"] = len(pairs)
        out["pairs_measured_on"] = args.hashes
    else:
        m = min(args.milvus_pairs, args.hashes)
        started = time.perf_counter()
        if m == args.hashes:
            pairs = index.all_pairs(ids, hashes, PAIRS_AT)
            out["pairs"] = len(pairs)
        else:  # the first m photos' range searches against the whole collection
            for start in range(0, m, 256):
                index._search(hashes[start : min(m, start + 256)], PAIRS_AT, lambda: None, True)  # type: ignore[arg-type, return-value]
        seconds = time.perf_counter() - started
        out["pairs_measured_on"] = m
        out["pairs_seconds"] = seconds * args.hashes / m
        out["pairs_modelled"] = m != args.hashes
        if args.ivf:
            out["ivf"] = ivf_recall(index, hashes[: args.ivf], queries)
        if args.check_pairs:
            n = args.check_pairs
            sub_catalog = build(work / "check.sqlite", hashes[:n])
            sub = MilvusIndex(sub_catalog, str(work / "milvus.db"))
            sub.sync()
            found = sub.all_pairs(ids[:n], hashes[:n], PAIRS_AT)
            expected = all_pairs.all_pairs(ids[:n], hashes[:n], PAIRS_AT)
            assert found.a.tolist() == expected.a.tolist()
            assert found.b.tolist() == expected.b.tolist()
            assert found.distance.tolist() == expected.distance.tolist()
            out["pairs_checked_on"] = n
            sub.close()
        index.close()
    out["peak_mb"] = memory.stop()
    return out


def ivf_recall(index: object, hashes: np.ndarray, queries: list[int]) -> dict[str, object]:
    """Recall and latency of the approximate BIN_IVF_FLAT index against exact answers."""
    from pymilvus import DataType, MilvusClient

    from desktop_app.engine.search.milvus_index import _vectors

    client = index._client  # type: ignore[attr-defined]
    name = "doppel_ivf_probe"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("hash", DataType.BINARY_VECTOR, dim=64)
    params = client.prepare_index_params()
    nlist = 1024
    params.add_index(
        "hash", index_type="BIN_IVF_FLAT", metric_type="HAMMING", params={"nlist": nlist}
    )
    try:
        client.create_collection(
            name, schema=schema, index_params=params, consistency_level="Strong"
        )
    except Exception as error:  # Milvus Lite: "local mode only support BIN_FLAT"
        return {"refused": str(error)}
    vectors = _vectors(hashes)
    for start in range(0, len(vectors), 20_000):
        client.insert(
            name,
            [{"pk": k, "hash": v} for k, v in enumerate(vectors[start : start + 20_000], start)],
        )
    client.flush(name)
    ids = np.arange(hashes.shape[0])
    out: dict[str, object] = {"n": int(hashes.shape[0]), "nlist": nlist}
    for nprobe in (16, 128):
        for threshold in (10, 16):
            found = wanted = 0
            started = time.perf_counter()
            for value in queries:
                hits = client.search(
                    name, data=_vectors(np.array([value], dtype=np.uint64)), anns_field="hash",
                    limit=16_384, search_params={"metric_type": "HAMMING",
                    "params": {"radius": threshold + 1, "nprobe": nprobe}},
                )[0]  # fmt: skip
                truth = set(brute(ids, hashes, value, threshold))
                found += len(truth & {int(h["id"]) for h in hits})
                wanted += len(truth)
            seconds = (time.perf_counter() - started) / len(queries)
            out[f"nprobe {nprobe}, threshold {threshold}"] = {
                "recall": found / max(1, wanted), "ms": seconds * 1e3, "wanted": wanted
            }  # fmt: skip
    client.drop_collection(name)
    return out


def scan_part(files: int) -> list[tuple[str, float]]:
    from distributed import LocalCluster
    from scan import write_library

    from desktop_app.engine.config import EngineConfig
    from desktop_app.engine.scan import scanner
    from desktop_app.engine.types import drain

    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="doppel-scale-scan-") as work:
        root = Path(work) / "photos"
        write_library(root, files)
        contents = []
        setups: list[tuple[str, int | None]] = [("local pool, all cores", None), ("dask", 1)]
        setups.append(("dask", 2))
        for label, workers in setups:
            path = Path(work) / f"{label}-{workers}.sqlite"
            if workers is None:
                config = EngineConfig()
                with Catalog(path) as catalog:
                    started = time.perf_counter()
                    drain(scanner.scan(catalog, [str(root)], config))
                    rows.append((label, time.perf_counter() - started))
                    contents.append(
                        catalog.execute("SELECT path, phash FROM images ORDER BY path").fetchall()
                    )
                continue
            with LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                config = EngineConfig(dask=cluster.scheduler_address)
                with Catalog(path) as catalog:
                    started = time.perf_counter()
                    drain(scanner.scan(catalog, [str(root)], config))
                    rows.append((f"dask, {workers} worker(s)", time.perf_counter() - started))
                    contents.append(
                        catalog.execute("SELECT path, phash FROM images ORDER BY path").fetchall()
                    )
        assert all(c == contents[0] for c in contents), "the scans disagree"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--milvus-pairs", type=int, default=20_000)
    parser.add_argument("--check-pairs", type=int, default=20_000)
    parser.add_argument("--ivf", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--phase", choices=("sqlite", "milvus"))
    parser.add_argument("--work")
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args)))
        return
    print(machine_notes())
    results = []
    with tempfile.TemporaryDirectory(prefix="doppel-scale-") as work:
        for backend in ("sqlite", "milvus"):
            command = [sys.executable, __file__, "--phase", backend, "--work", work]
            for name in ("hashes", "queries", "milvus_pairs", "check_pairs", "ivf"):
                command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        shutil.rmtree(work, ignore_errors=True)
    sqlite, milvus = results
    print(f"\n{args.hashes:,} synthetic hashes, {args.queries} queries per threshold")
    print(f"{'':28}{'SQLite':>14}{'Milvus Lite':>14}{'ratio':>8}")
    print(f"{'insert + index (s)':28}{sqlite['insert']:14.1f}{milvus['insert']:14.1f}"
          f"{milvus['insert'] / sqlite['insert']:8.1f}")  # fmt: skip
    for t in THRESHOLDS:
        a, b = sqlite["query"][str(t)] * 1e3, milvus["query"][str(t)] * 1e3
        print(f"{f'query, threshold {t} (ms)':28}{a:14.2f}{b:14.2f}{b / a:8.1f}")
    label = "all pairs at 10 (s)" + (" [model]" if milvus.get("pairs_modelled") else "")
    a, b = sqlite["pairs_seconds"], milvus["pairs_seconds"]
    print(f"{label:28}{a:14.1f}{b:14.1f}{b / a:8.1f}")
    print(f"{'peak memory (MB)':28}{sqlite['peak_mb']:14.0f}{milvus['peak_mb']:14.0f}")
    print(
        f"SQLite: {sqlite['pairs']:,} pairs in the in-memory MIH search. Milvus: range searches "
        f"of {milvus['pairs_measured_on']:,} photos measured"
        + (
            f", scaled to {args.hashes:,} (a model: per-photo cost x N)"
            if milvus.get("pairs_modelled")
            else ""
        )
        + f"; pairs identical to all_pairs on {milvus.get('pairs_checked_on', 0):,} photos."
    )
    if milvus.get("ivf", {}).get("refused"):
        print(f"BIN_IVF_FLAT refused by Milvus Lite: {milvus['ivf']['refused']}")
    elif milvus.get("ivf"):
        print(f"BIN_IVF_FLAT (approximate) on {milvus['ivf']['n']:,} hashes, nlist 1024:")
        for key, value in milvus["ivf"].items():
            if isinstance(value, dict):
                recall, hits, ms = value["recall"], value["wanted"], value["ms"]
                print(f"  {key}: recall {recall:.3f} of {hits} hits, {ms:.1f} ms")
    if not args.skip_scan:
        rows = scan_part(args.files)
        base = rows[0][1]
        print(f"\nScan of {args.files} JPEGs (640x427), fresh catalog each; same catalog rows")
        for label, seconds in rows:
            rate = args.files / seconds
            print(f"  {label:28}{seconds:8.1f} s  {rate:7.0f} files/s  x{base / seconds:.2f}")


if __name__ == "__main__":
    main()

"""Benchmark: exact all-pairs search and regrouping on synthetic hashes.

Each case runs in a fresh process so that its peak memory (``ru_maxrss``, which
includes the interpreter, numpy and the hashes themselves, about 80 MB at 1M) is its
own. The baseline is numpy brute force (``brute_force_pairs``, blocked, same threads) on
the same data in the same run: in full at 100,000 hashes; at 1,000,000 its time on a
random subset of 100,000 of the hashes, scaled by the number of pairs (x 100), and the
exact pair check is done on 2,000 sampled rows against all hashes.

    python benchmarks/pairs.py                       # the docs/benchmarks.md table
    python benchmarks/pairs.py --sizes 100000 --thresholds 10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import crowding, synthetic_hashes
from desktop_app.engine.imaging.windows import WINDOWS
from desktop_app.engine.search.all_pairs import all_pairs, brute_force_pairs, plan_search
from desktop_app.engine.search.grouping import group_pairs
from desktop_app.engine.search.window_pairs import WINDOW_THRESHOLD, fold, window_pairs

SAMPLE_ROWS = 2000
SUBSET = 100_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sample_brute(hashes: np.ndarray, threshold: int, rows: np.ndarray) -> tuple[float, set]:
    """Brute force of the sampled rows against every hash: time and the pairs found."""
    started = time.perf_counter()
    found: set[tuple[int, int]] = set()
    for r0 in range(0, rows.shape[0], 4):
        block = rows[r0 : r0 + 4]
        d = np.bitwise_count(hashes[block, None] ^ hashes[None, :])
        r, c = np.nonzero(d <= threshold)
        for x, y in zip(block[r].tolist(), c.tolist(), strict=True):
            if x != y:
                found.add((min(x, y), max(x, y)))
    return time.perf_counter() - started, found


def _subset_brute(hashes: np.ndarray, threshold: int, workers: int) -> float:
    """Brute force on a random subset of ``SUBSET`` hashes, scaled to all pairs."""
    n = hashes.shape[0]
    subset = hashes[np.random.default_rng(2).choice(n, SUBSET, replace=False)]
    started = time.perf_counter()
    brute_force_pairs(np.arange(SUBSET), subset, threshold, workers=workers)
    seconds = time.perf_counter() - started
    return seconds * (n * (n - 1)) / (SUBSET * (SUBSET - 1))


def _variants(hashes: np.ndarray, seed: int) -> np.ndarray:
    """Synthetic transform hashes: as biased as the originals, 5% near another photo."""
    n = hashes.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((n, 8), np.uint64)
    out[:, 0] = hashes
    for t in range(1, 8):
        out[:, t] = synthetic_hashes(n, seed=seed + t, copy_fraction=0.0)
        near = rng.random(n) < 0.05
        flips = np.uint64(1) << rng.integers(0, 63, int(near.sum())).astype(np.uint64)
        out[near, t] = hashes[rng.integers(0, n, int(near.sum()))] ^ flips
    return out


def _windows(hashes: np.ndarray, seed: int) -> np.ndarray:
    """Synthetic window hashes (issue 10): the photo's own hash with 6 + 2w bits flipped
    for window w (on real photos a window's hash lies 6-30 bits from its photo's, the
    tighter windows further), so they are as biased as the hashes and near the photo's
    own copies as real windows are; made without the large temporaries of
    ``synthetic_hashes``, which would count in the peak memory. 2% of each window column
    is a few bits from another photo's hash (a crop of it in the library)."""
    n = hashes.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((n, len(WINDOWS)), np.uint64)
    rows = np.arange(n)
    for w in range(len(WINDOWS)):
        column = hashes.copy()
        for _ in range(6 + 2 * w):
            column[rows] ^= np.uint64(1) << rng.integers(0, 63, n).astype(np.uint64)
        near = rng.random(n) < 0.02
        flips = np.uint64(1) << rng.integers(0, 63, int(near.sum())).astype(np.uint64)
        column[near] = hashes[rng.integers(0, n, int(near.sum()))] ^ flips
        out[:, w] = column
    return out


def run_window_case(n: int, threshold: int, workers: int, with_windows: bool) -> dict[str, Any]:
    """Today's all-pairs search, then (``with_windows``) the window pairs after it, as
    ``pairing._full`` runs them; time and peak memory of the whole."""
    hashes = synthetic_hashes(n)
    ids = np.arange(n, dtype=np.int64)
    # Both cases make the window table, so that the peak memory compares the searches.
    table = _windows(hashes, 300)
    if not with_windows:
        table = None
    started = time.perf_counter()
    pairs = all_pairs(ids, hashes, threshold, workers=workers)
    whole = time.perf_counter() - started
    windowed = added = 0
    if table is not None:
        found = window_pairs(ids, hashes, table, args_window_threshold(), workers=workers)
        windowed = len(found)
        pairs, extra = fold(pairs, found)  # stored side by side, as pairing.py does
        added = len(extra)
    return {
        "seconds": time.perf_counter() - started,
        "whole_seconds": whole,
        "pairs": len(pairs) + added,
        "window_pairs": windowed,
        "rss_mb": _rss_mb(),
    }


def args_window_threshold() -> int:
    """The window threshold to measure (``DOPPEL_WINDOW_THRESHOLD`` overrides the engine's)."""
    return int(os.environ.get("DOPPEL_WINDOW_THRESHOLD", WINDOW_THRESHOLD))


def run_case(
    n: int, threshold: int, workers: int, rotations: bool, regroup: bool
) -> dict[str, Any]:
    """One search in this process; returns its measurements."""
    hashes = synthetic_hashes(n)
    ids = np.arange(n, dtype=np.int64)
    variants = _variants(hashes, 100) if rotations else None
    base_rss = _rss_mb()
    started = time.perf_counter()
    plan = plan_search(hashes, threshold, variants=variants)
    planned = time.perf_counter() - started
    pairs = all_pairs(ids, hashes, threshold, variants=variants, workers=workers, plan=plan)
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "n": n,
        "threshold": threshold,
        "rotations": rotations,
        "plan": plan.describe(),
        "modelled": plan.estimate,
        "planning": planned,
        "seconds": seconds,
        "pairs": len(pairs),
        "rss_mb": _rss_mb(),
        "base_rss_mb": base_rss,
    }
    started = time.perf_counter()
    grouping = group_pairs(pairs, threshold)
    out["group_seconds"] = time.perf_counter() - started
    out["groups"] = len(grouping)
    if regroup:
        out["regroup"] = {}
        for t in range(threshold + 1):
            best = min(_timed(group_pairs, pairs, t) for _ in range(3))
            out["regroup"][t] = best
    if n > 200_000 and not rotations:
        rows = np.random.default_rng(1).choice(n, SAMPLE_ROWS, replace=False)
        _, found = _sample_brute(hashes, threshold, rows)
        touched = np.isin(pairs.a, rows) | np.isin(pairs.b, rows)
        mine = set(zip(pairs.a[touched].tolist(), pairs.b[touched].tolist(), strict=True))
        out["sample_pairs"] = len(found)
        out["sample_equal"] = mine == found
        out["brute_estimate"] = _subset_brute(hashes, threshold, workers)
    return out


def _timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def run_brute(n: int, threshold: int, workers: int, rotations: bool) -> dict[str, Any]:
    hashes = synthetic_hashes(n)
    variants = _variants(hashes, 100) if rotations else None
    started = time.perf_counter()
    pairs = brute_force_pairs(
        np.arange(n, dtype=np.int64), hashes, threshold, variants=variants, workers=workers
    )
    seconds = time.perf_counter() - started
    checksum = int((pairs.a * 1_000_003 + pairs.b * 7 + pairs.distance).sum() % (1 << 61))
    return {"seconds": seconds, "pairs": len(pairs), "checksum": checksum}


def estimate_case(n: int, threshold: int, workers: int) -> dict[str, Any]:
    """A case too large to run: its pair count from a sample, its size and modelled time."""
    hashes = synthetic_hashes(n)
    plan = plan_search(hashes, threshold)
    rows = np.random.default_rng(1).choice(n, SAMPLE_ROWS, replace=False)
    _, found = _sample_brute(hashes, threshold, rows)
    # Each sampled row has about len(found) / SAMPLE_ROWS partners.
    pairs = len(found) / SAMPLE_ROWS * n / 2
    return {
        "n": n,
        "threshold": threshold,
        "plan": plan.describe(),
        "modelled": plan.estimate,
        "pairs_estimate": pairs,
        "pairset_gb": pairs * 18 / 1e9,
        "brute_estimate": _subset_brute(hashes, threshold, workers),
    }


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--thresholds", type=int, nargs="+", default=[4, 8, 10, 12, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-1m-threshold", type=int, default=12)
    parser.add_argument("--rotations", action="store_true", help="also 100k at 10 with variants")
    parser.add_argument("--case", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--brute", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--estimate", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--with-variants", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--regroup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--windows", action="store_true", help="only: the cost of window pairs at 100k"
    )
    parser.add_argument("--window-case", type=int, nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=1, help="--windows: rounds to run")
    args = parser.parse_args()
    if args.window_case:
        n, t, on = args.window_case
        print(json.dumps(run_window_case(n, t, args.workers, bool(on))))
        return
    if args.windows:
        # Three children each round: the whole-image search with the numpy loop (the
        # search as it was before the window pairs and the compiled loop), the same
        # search with the compiled loop, and that followed by the window pairs.
        w = ["--workers", str(args.workers)]
        numpy_loop = {**os.environ, "DOPPEL_NO_JIT": "1"}
        for n in args.sizes:
            t = 16 if n <= 150_000 else 12  # the reach pairing.py searches at this size
            for _ in range(args.rounds):
                old = _child(["--window-case", str(n), str(t), "0", *w], numpy_loop)
                before = _child(["--window-case", str(n), str(t), "0", *w])
                after = _child(["--window-case", str(n), str(t), "1", *w])
                print(
                    f"Window pairs, {n:,} photos, whole-image pairs at {t} and window pairs "
                    f"at {args_window_threshold()} ({len(WINDOWS)} windows): "
                    f"{after['seconds']:.1f} s (whole-image part {after['whole_seconds']:.1f} s: "
                    f"{after['seconds'] / after['whole_seconds']:.2f}x in one process; "
                    f"{after['window_pairs']:,} window pairs) against {before['seconds']:.1f} s "
                    f"without window pairs ({after['seconds'] / before['seconds']:.2f}x) and "
                    f"{old['seconds']:.1f} s with the numpy loop "
                    f"({after['seconds'] / old['seconds']:.2f}x); peak RSS "
                    f"{after['rss_mb']:.0f} MB against {before['rss_mb']:.0f} and "
                    f"{old['rss_mb']:.0f} MB.",
                    flush=True,
                )
        return
    if args.case:
        print(json.dumps(run_case(*args.case, args.workers, args.with_variants, args.regroup)))
        return
    if args.brute:
        print(json.dumps(run_brute(*args.brute, args.workers, args.with_variants)))
        return
    if args.estimate:
        print(json.dumps(estimate_case(*args.estimate, args.workers)))
        return

    for n in args.sizes:
        factors = " ".join(f"{c:.1f}" for c in crowding(synthetic_hashes(n)))
        print(f"{n:,} hashes: 16-bit segment crowding {factors} (uniform bits: 1.0)")
    print()
    print(
        "| hashes | threshold | method | pairs | time (s) | peak RSS (MB) | brute force (s) "
        "| speed-up | same pairs | grouping (ms) |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---|---:|")
    w = ["--workers", str(args.workers)]
    regroup_rows: dict[int, dict[str, float]] = {}
    for n in args.sizes:
        for t in args.thresholds:
            if n >= 1_000_000 and t > args.max_1m_threshold:
                est = _child(["--estimate", str(n), str(t), *w])
                print(
                    f"| {n:,} | {t} | {est['plan']} (not run) | ~{est['pairs_estimate']:.2g} "
                    f"| ~{est['modelled']:.0f} modelled, 1 core | - "
                    f"| ~{est['brute_estimate']:.0f} (scaled) | - | - | - |",
                    flush=True,
                )
                print(
                    f"|  |  | {est['pairset_gb']:.1f} GB of pairs: beyond the 2 GB budget "
                    f"|  |  |  |  |  |  |  |",
                    flush=True,
                )
                continue
            extra = ["--regroup"] if (n <= 100_000 and t == max(args.thresholds)) else []
            case = _child(["--case", str(n), str(t), *w, *extra])
            if "regroup" in case:
                regroup_rows[n] = case["regroup"]
            if "brute_estimate" in case:
                brute = f"~{case['brute_estimate']:.0f} (scaled)"
                speedup = case["brute_estimate"] / case["seconds"]
                same = f"{case['sample_equal']} ({case['sample_pairs']:,} sampled)"
            else:
                b = _child(["--brute", str(n), str(t), *w])
                brute = f"{b['seconds']:.1f}"
                speedup = b["seconds"] / case["seconds"]
                same = str(b["pairs"] == case["pairs"])
            print(
                f"| {n:,} | {t} | {case['plan']} | {case['pairs']:,} | {case['seconds']:.1f} "
                f"| {case['rss_mb']:.0f} | {brute} | {speedup:.1f}x | {same} "
                f"| {1000 * case['group_seconds']:.0f} |",
                flush=True,
            )
    if args.rotations:
        n, t = 100_000, 10
        plain = _child(["--case", str(n), str(t), *w])
        rot = _child(["--case", str(n), str(t), *w, "--with-variants"])
        b = _child(["--brute", str(n), str(t), *w, "--with-variants"])
        print()
        print(
            f"Rotations, {n:,} hashes at {t}: {rot['seconds']:.1f} s ({rot['plan']}, "
            f"{rot['pairs']:,} pairs, {rot['rss_mb']:.0f} MB) against {plain['seconds']:.1f} s "
            f"without: {rot['seconds'] / plain['seconds']:.1f}x. Brute force with rotations: "
            f"{b['seconds']:.1f} s, same pairs: {b['pairs'] == rot['pairs']}."
        )
    for n, times in regroup_rows.items():
        print()
        print(f"Regrouping {n:,} images from the pairs at {max(args.thresholds)} (best of 3):")
        print("| threshold | " + " | ".join(str(t) for t in times) + " |")
        print("|---" * (len(times) + 1) + "|")
        print("| ms | " + " | ".join(f"{1000 * s:.0f}" for s in times.values()) + " |")


if __name__ == "__main__":
    main()

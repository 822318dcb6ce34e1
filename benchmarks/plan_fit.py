"""Fit the planner's cost constants (``engine/search/plan.py``) to this machine.

For a spread of layouts (3 to 6 segments, each with the radii the model spreads over
them) and thresholds, at one or more sizes of synthetic hashes, it times the multi-index
search on one thread and regresses the measured seconds on the work the model counts
(probes, rows, candidates, setup items) with non-negative least squares. It prints the
constants, then each case's measured and modelled time under the fitted constants and
under the ones in ``plan.py``, so that a change of the search loop (or of the machine)
shows how far the model is off.

    python benchmarks/plan_fit.py                    # the compiled loop, if numba is there
    DOPPEL_NO_JIT=1 python benchmarks/plan_fit.py    # the numpy loop

The constants are fitted on the even cases and reported on the odd ones (and all).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_notes
from synthetic import synthetic_hashes

from desktop_app.engine.search import kernels
from desktop_app.engine.search.all_pairs import all_pairs
from desktop_app.engine.search.plan import Costs, current_costs, plan_search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--thresholds", type=int, nargs="+", default=[4, 8, 10, 12, 16])
    parser.add_argument("--limit", type=float, default=20.0, help="skip cases modelled longer")
    args = parser.parse_args()
    print(machine_notes())
    print(f"compiled loop: {kernels.compiled()}")
    shipped = current_costs()
    cases: list[tuple[str, tuple[float, float, float, float], float]] = []
    for n in args.sizes:
        hashes = synthetic_hashes(n)
        ids = np.arange(n, dtype=np.int64)
        for threshold in args.thresholds:
            for segments in range(3, 7):
                plan = plan_search(hashes, threshold, segments=segments)
                if plan.method != "mih" or plan.estimate > args.limit:
                    continue
                started = time.perf_counter()
                all_pairs(ids, hashes, threshold, workers=1, plan=plan)
                seconds = time.perf_counter() - started
                name = f"{n:>9,} t{threshold:<2} {plan.describe()}"
                cases.append((name, plan.work, seconds))
                print(f"{name}: {seconds:.2f} s", flush=True)
    work = np.array([c[1] for c in cases], dtype=np.float64)
    seconds = np.array([c[2] for c in cases], dtype=np.float64)
    tune = np.arange(len(cases)) % 2 == 0
    # Scale the columns so that the regression is well conditioned.
    scale = work[tune].max(axis=0)
    scale[scale == 0] = 1.0
    solution, _residual = nnls(work[tune] / scale, seconds[tune])
    fitted = Costs(*(solution / scale).tolist(), brute=shipped.brute)
    print(
        f"\nfitted on {int(tune.sum())} cases: probe {fitted.probe:.3g}, row {fitted.row:.3g},"
        f" candidate {fitted.candidate:.3g}, setup {fitted.setup:.3g}"
    )
    print(
        f"in plan.py now:       probe {shipped.probe:.3g}, row {shipped.row:.3g},"
        f" candidate {shipped.candidate:.3g}, setup {shipped.setup:.3g}\n"
    )
    print("| case | half | measured (s) | fitted model (s) | plan.py model (s) |")
    print("|---|---|---:|---:|---:|")
    errors: dict[str, list[float]] = {"fitted": [], "shipped": []}
    for k, (name, case_work, measured) in enumerate(cases):
        a, b = fitted.of(case_work), shipped.of(case_work)
        half = "fit" if tune[k] else "report"
        print(f"| {name} | {half} | {measured:.2f} | {a:.2f} | {b:.2f} |")
        if not tune[k]:
            errors["fitted"].append(abs(np.log(a / measured)))
            errors["shipped"].append(abs(np.log(b / measured)))
    for which, values in errors.items():
        if values:
            print(f"report half, {which} constants: median error x{np.exp(np.median(values)):.2f}")


if __name__ == "__main__":
    main()

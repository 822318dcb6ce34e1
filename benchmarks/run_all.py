"""Run every benchmark behind docs/benchmarks.md, one after the other (``make bench``).

Each script prints its own table with the baseline it measured in the same run. The
full set takes about half an hour on 2 cores; ``--only NAME ...`` picks some. The
quality benchmark installs Debian's wallpaper packages with apt-get (it needs root and
the package archive) and fetches two wheels with pip; ``--skip quality`` leaves it out.

    python benchmarks/run_all.py [--only hashing scan ...] [--skip quality ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Script, extra arguments, and what it measures, in the order of docs/benchmarks.md.
BENCHMARKS: dict[str, tuple[list[str], str]] = {
    "hashing": ([], "hashing throughput against the plain pipeline and a bare draft decode"),
    "scan": ([], "full scan and re-scan of 10,000 files"),
    "pairs": (["--rotations"], "all pairs over 100,000 and 1,000,000 hashes against brute force"),
    "query": ([], "query latency on a 1,000,000-hash catalog"),
    "rotation_cost": ([], "what the rotation setting costs"),
    "gui": ([], "the window with a 100,000-photo catalog"),
    "quality": ([], "precision and recall on real photographs"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--skip", nargs="+", choices=BENCHMARKS, default=[])
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window benchmark needs no screen
    failed = []
    for name in args.only:
        if name in args.skip:
            continue
        extra, what = BENCHMARKS[name]
        print(f"\n=== {name}: {what}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra], env=env)
        print(f"=== {name}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

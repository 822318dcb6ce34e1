"""The geometric check's cost against an earlier revision of it, in the same process.

Loads ``desktop_app/engine/search/geometry.py`` as it was at ``--against`` (a git
revision) beside today's, and times ``compare`` of each on the pairs of
``clip_margins.py`` (every brightened copy and every burst frame against the files of
its picture: the pairs the later looks work hardest on), alternating which goes first.
The keypoints and colours are read once and shared, so only the comparison is timed.

    python benchmarks/check_cost.py /tmp/qc --against e06aef7

About 6 minutes on the quality.py corpus on a 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import clip_margins
from _common import machine_notes

from desktop_app.engine.search import confirm, geometry

ROOT = Path(__file__).resolve().parent.parent
MODULE = "desktop_app/engine/search/geometry.py"


def load_revision(revision: str, folder: Path) -> ModuleType:
    """``geometry.py`` as it was at ``revision``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{MODULE}"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    path = folder / "geometry_then.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("geometry_then", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["geometry_then"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="the corpus of quality.py --keep")
    parser.add_argument("--against", required=True, help="git revision of the baseline")
    args = parser.parse_args()
    print(f"Machine: {machine_notes()}")
    with tempfile.TemporaryDirectory() as folder:
        then = load_revision(args.against, Path(folder))
        pairs = clip_margins._pairs(clip_margins._files(args.corpus))
        keypoints: dict[str, geometry.Keypoints] = {}
        colours: dict[str, geometry.Colour | None] = {}
        for a, b, *_ in pairs:
            for path in (a, b):
                if path not in keypoints:
                    keypoints[path] = confirm.read_keypoints(path, clip_margins.MAX_PIXELS)
                    colours[path] = confirm.read_colour(path, clip_margins.MAX_PIXELS)
        spent = {"then": 0.0, "now": 0.0}
        confirmed = {"then": 0, "now": 0}
        for turn, (a, b, *_) in enumerate(pairs):
            order = [("then", then), ("now", geometry)]
            for name, module in order if turn % 2 == 0 else order[::-1]:
                first, second = (
                    module.Keypoints(k.pixels, k.points, k.descriptors)
                    for k in (keypoints[a], keypoints[b])
                )

                def both(a: str = a, b: str = b) -> tuple[object, object]:
                    return colours[a], colours[b]

                started = time.perf_counter()
                check = module.compare(first, second, colour=both)
                spent[name] += time.perf_counter() - started
                confirmed[name] += bool(check.confirmed)
    print(f"{len(pairs)} pairs, each compared by both, alternating which goes first")
    for name in ("then", "now"):
        print(
            f"  {name:>4} ({args.against if name == 'then' else 'this tree'}): "
            f"{spent[name]:.1f} s, {spent[name] / len(pairs) * 1000:.1f} ms per pair, "
            f"{confirmed[name]} confirmed"
        )
    print(f"  now / then: {spent['now'] / spent['then']:.2f}x")


if __name__ == "__main__":
    main()

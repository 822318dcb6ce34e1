"""``--index milvus:FILE`` gives the command line's answers the SQLite index gives.

Two catalogs over the same demo library, one searched through the catalog's own index,
the other through Milvus Lite: pairs, groups and query print the same JSON. And the
default install never loads pymilvus or Dask.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.demo import build_demo_library

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    build_demo_library(folder, photos=9, seed=5, size=(320, 213))
    return folder


def run(capsys, *argv):
    code = main([*argv, "--workers", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _answers(capsys, library, catalog, index, *extra):
    base = ["--catalog", str(catalog), "--index", index, *extra]
    run(capsys, "scan", str(library), *base)
    query_image = next(iter(sorted(library.rglob("*.jpg"))))
    answers = {
        "pairs": json.loads(run(capsys, "pairs", str(library), "--json", "-t", "16", *base)),
        "groups": json.loads(run(capsys, "groups", str(library), "--json", "-t", "12", *base)),
        "query": json.loads(
            run(capsys, "query", str(query_image), "--in", str(library), "--json", *base)
        ),
    }
    for answer in answers.values():
        answer.pop("catalog", None)  # the one thing that differs: the catalog's path
    return answers


@pytest.mark.parametrize("extra", [(), ("--rotations",)], ids=["plain", "rotations"])
def test_milvus_lite_answers_as_the_sqlite_index(capsys, library, tmp_path, extra):
    sqlite = _answers(capsys, library, tmp_path / "a.sqlite", "sqlite", *extra)
    milvus = _answers(
        capsys, library, tmp_path / "b.sqlite", f"milvus:{tmp_path / 'index.db'}", *extra
    )
    assert sqlite["pairs"]["pairs"]  # the library has copies to find
    assert sqlite["groups"]["groups"]
    assert len(sqlite["query"]["matches"]) >= 1
    assert (tmp_path / "index.db").exists()  # Milvus Lite did the searching
    assert milvus == sqlite


def test_a_bad_index_setting_is_a_clear_error(capsys, library, tmp_path):
    code = main(["pairs", str(library), "--catalog", str(tmp_path / "c.sqlite"), "--index", "x"])
    assert code != 0
    assert "--index" in capsys.readouterr().err


def test_the_default_install_loads_neither_milvus_nor_dask(tmp_path):
    code = (
        "import sys\n"
        "from desktop_app.engine.library import Library\n"
        "import desktop_app.cli.main, desktop_app.engine.scan.scanner\n"
        "from desktop_app.engine.search import pairing\n"
        "lib = Library([sys.argv[1]], catalog=sys.argv[2])\n"
        "lib.pairs(); lib.close()\n"
        "loaded = [m for m in ('pymilvus', 'milvus_lite', 'dask', 'distributed')"
        " if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(tmp_path / "c.sqlite")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

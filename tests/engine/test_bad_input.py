"""Bad input, at the level of a whole scan: it finishes, and lists every bad file with why.

``test_loading.py`` checks the loader file by file and ``test_scanner.py`` the walk;
here a real library holds every kind of bad file of issue 4 at once beside good photos,
and is scanned through :class:`Library` (and the command line) as a user would. Tests run
as root here, where ``chmod 000`` stops nothing: unreadable files and folders are
simulated with monkeypatching, and tested for real as an ordinary user in a forked child
(``tests/unprivileged.py``). The catalog cases
(locked, damaged, too new) are in ``tests/test_cli_catalog.py``.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import hashing
from desktop_app.engine.library import Library
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import FileFailure, ImageFeatures, Phase, ScanSummary, drain
from tests import unprivileged

CONFIG = EngineConfig(workers=0)
ROOT = Path(__file__).resolve().parents[2]
UNDECODABLE = os.fsdecode(b"caf\xe9 \xff.jpg")  # Latin-1 bytes: not valid UTF-8
LONG_NAME = "n" * 251 + ".jpg"  # 255 bytes, the most a Linux file system allows


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose header claims another size: a decompression bomb."""
    data = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def deep_folder(root: Path, total: int = 4200) -> str:
    """Nest folders of 200-byte names below ``root`` until the path passes ``total``
    bytes (beyond PATH_MAX, so it can only be made relative to open folders), with a
    photo at the bottom. Returns the photo's path."""
    photo = encode(synthetic_photo(31, (64, 48)), "JPEG")
    fd = os.open(root, os.O_RDONLY)
    path = str(root)
    try:
        while len(path) < total:
            name = "d" * 200
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, path = inner, os.path.join(path, name)
        out = os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, photo)
        os.close(out)
    finally:
        os.close(fd)
    return os.path.join(path, "deep.jpg")


@pytest.fixture
def bad_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """Good photos and every kind of bad file; returns the folder and, for each bad
    file (relative path), the reason the scan must give."""
    root = tmp_path / "library"
    root.mkdir()
    photo = synthetic_photo(30, (480, 320))
    jpeg = encode(photo, "JPEG", quality=90)
    (root / "good.jpg").write_bytes(jpeg)
    (root / "good copy.png").write_bytes(encode(photo, "PNG"))
    Image.new("RGB", (1, 1), (200, 30, 30)).save(root / "one pixel.png")
    Image.new("L", (100_000, 10), 128).save(root / "strip.png")
    (root / os.fsdecode(os.fsencode(UNDECODABLE))).write_bytes(jpeg)
    (root / LONG_NAME).write_bytes(jpeg)
    (root / "album").mkdir()
    (root / "album" / "loop").symlink_to(root, target_is_directory=True)
    (root / "album" / "self.jpg").symlink_to(root / "album" / "self.jpg")
    (root / "sealed").mkdir()
    (root / "sealed" / "inside.jpg").write_bytes(jpeg)
    deep_folder(root)

    bad = {
        "empty.jpg": (b"", "empty file"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated JPEG"),
        "random.jpg": (bytes((i * 7919 + 13) % 256 for i in range(5000)), "not an image"),
        "notes.png": (b"These are my notes, not a picture.\n" * 20, "not an image"),
        "bomb.png": (png_claiming(100_000, 100_000), "image too large: 100000 x 100000 pixels"),
        "locked.jpg": (jpeg, "permission denied"),
    }
    for name, (data, _) in bad.items():
        (root / name).write_bytes(data)
    reasons = {name: reason for name, (_, reason) in bad.items()}
    reasons["sealed"] = "folder cannot be read: Permission denied"
    reasons["album/self.jpg"] = "cannot be read: Too many levels of symbolic links"

    # As root, permissions stop nothing: refuse the reads the way the OS would.
    real_open, real_scandir = open, os.scandir

    def refusing_open(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith("locked.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    def refusing_scandir(path: object) -> object:
        if str(path).endswith("sealed"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing, "open", refusing_open, raising=False)
    monkeypatch.setattr(scanner.os, "scandir", refusing_scandir)
    return root, reasons


def by_name(root: Path, summary: ScanSummary) -> dict[str, str]:
    return {os.path.relpath(f.path, root): f.reason for f in summary.failures}


def test_a_scan_finishes_and_lists_every_bad_file_with_its_reason(
    bad_library: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, reasons = bad_library
    with Library([root], catalog=tmp_path / "c.sqlite", config=CONFIG) as library:
        summary = drain(library.scan())
        assert not summary.cancelled
        failures = by_name(root, summary)
        deep = [reason for path, reason in failures.items() if path.startswith("dddd")]
        assert deep == ["folder cannot be read: File name too long"]
        assert {k: v for k, v in failures.items() if not k.startswith("dddd")} == reasons
        # Files that could be read are hashed, whatever their shape or name.
        hashed = {os.path.relpath(r.path, root) for r in library.records().values() if r.phash}
        assert hashed == {
            "good.jpg",
            "good copy.png",
            "one pixel.png",
            "strip.png",
            UNDECODABLE,
            LONG_NAME,
        }
        # The catalog keeps the files that could not be decoded, with their reasons; what
        # the walk could not even open (a folder, a link loop) is reported by each scan.
        walk = {"sealed", "album/self.jpg"}
        stored = {os.path.relpath(f.path, root): f.reason for f in library.failures()}
        assert stored == {k: v for k, v in reasons.items() if k not in walk}
        # And the copies among the odd names are still found.
        pairs = library.pairs()
        records = library.records()
        names = {
            frozenset(os.path.basename(records[int(x)].path) for x in (a, b))
            for a, b in zip(pairs.a, pairs.b, strict=True)
        }
        assert frozenset({"good.jpg", UNDECODABLE}) in names
        assert frozenset({"good.jpg", LONG_NAME}) in names
        # A second scan decodes nothing again, but tries the file it could not open (its
        # permissions may have changed, which does not change its modification time);
        # the walk's problems are reported again.
        again = drain(library.scan())
        assert (again.hashed, again.unchanged) == (1, len(hashed) + len(stored) - 1)
        assert set(by_name(root, again)) == walk | {"locked.jpg"} | {
            k for k in failures if k.startswith("dddd")
        }


def test_the_command_line_lists_the_bad_files(
    bad_library: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, reasons = bad_library
    code = main(["scan", str(root), "--catalog", str(tmp_path / "c.sqlite"), "--workers", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Could not read:" in out
    for name, reason in reasons.items():
        assert f"{root / name}: {reason}" in out


def test_files_deleted_or_rewritten_during_the_scan(tmp_path: Path) -> None:
    root = tmp_path / "library"
    root.mkdir()
    for seed in range(4):
        synthetic_photo(40 + seed, (320, 200)).save(root / f"p{seed}.jpg", quality=90)
    doomed, changing = root / "p1.jpg", root / "p2.jpg"
    replacement = synthetic_photo(50, (300, 200))
    with Library([root], catalog=tmp_path / "c.sqlite", config=CONFIG) as library:
        steps = library.scan()
        for report in steps:  # between the walk and the hashing of the files it found
            if report.phase is Phase.HASHING:
                doomed.unlink()
                replacement.save(changing, quality=80)
                break
        summary = drain(steps)
        assert summary.failures == ()  # a vanished file is not a failure: it is gone
        names = {os.path.basename(r.path): r for r in library.records().values()}
        assert sorted(names) == ["p0.jpg", "p2.jpg", "p3.jpg"]
        expected = hashing.hash_file(str(changing), CONFIG)
        assert isinstance(expected, ImageFeatures)
        assert names["p2.jpg"].phash == expected.phash  # the new content, not the old
        assert drain(library.scan()).hashed == 0  # and it was recorded as read


@pytest.mark.skipif(not unprivileged.SUPPORTED, reason="needs fork and POSIX permissions")
def test_real_permissions() -> None:
    def scan() -> dict[str, str]:  # runs as an ordinary user, even when the tests run as root
        root = folder / "library"
        (root / "sealed").mkdir(parents=True)
        synthetic_photo(32, (64, 48)).save(root / "locked.jpg")
        synthetic_photo(33, (64, 48)).save(root / "sealed" / "inside.jpg")
        (root / "locked.jpg").chmod(0)
        (root / "sealed").chmod(0)
        try:
            with Library([root], catalog=folder / "c.sqlite", config=CONFIG) as library:
                return by_name(root, drain(library.scan()))
        finally:
            (root / "sealed").chmod(0o755)
            (root / "locked.jpg").chmod(0o644)

    with unprivileged.shared_folder() as folder:
        failures = unprivileged.run_as_user(scan)
    assert failures == {
        "locked.jpg": "permission denied",
        "sealed": "folder cannot be read: Permission denied",
    }


# --- a decoder that crashes its process --------------------------------------------------


def crashing_hasher(path: str, config: EngineConfig) -> ImageFeatures | FileFailure:
    """Hash like the scan does, but die as a segfaulting decoder would on "crash" files."""
    if "crash" in os.path.basename(path):
        os.kill(os.getpid(), signal.SIGSEGV)
    return hashing.hash_file(path, config)


def test_a_crashing_decoder_costs_one_file_not_the_scan(tmp_path: Path) -> None:
    for seed in range(14):
        synthetic_photo(60 + seed, (160, 120)).save(tmp_path / f"p{seed:02d}.jpg", quality=85)
    synthetic_photo(80, (160, 120)).save(tmp_path / "p05 crash.jpg", quality=85)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        steps = scanner.scan(
            catalog,
            [str(tmp_path)],
            EngineConfig(workers=2),
            threading.Event(),
            hasher=crashing_hasher,
        )
        summary = drain(steps)
        assert [(os.path.basename(f.path), f.reason) for f in summary.failures] == [
            ("p05 crash.jpg", "the image decoder crashed on this file")
        ]
        assert catalog.count() == (14, 1)


# --- fuzzing a real scan -----------------------------------------------------------------

_SEEDS = {
    "jpg": encode(synthetic_photo(20, (96, 64)), "JPEG", quality=85),
    "png": encode(synthetic_photo(21, (48, 32)), "PNG"),
    "gif": encode(synthetic_photo(22, (48, 32)).convert("P"), "GIF"),
    "webp": encode(synthetic_photo(23, (48, 32)), "WEBP"),
    "tif": encode(synthetic_photo(24, (48, 32)), "TIFF"),
}

mutation = st.tuples(
    st.sampled_from(sorted(_SEEDS)),  # the file mutated
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), max_size=16),  # bit flips
    st.one_of(st.none(), st.integers(0, 10**6)),  # truncation
    st.one_of(st.none(), st.tuples(st.sampled_from(sorted(_SEEDS)), st.integers(0, 10**6))),
)


def mutate(kind: str, flips: list[tuple[int, int]], cut: int | None, splice: object) -> bytes:
    data = bytearray(_SEEDS[kind])
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    if splice is not None:  # the tail of another file after a prefix of this one
        other, at = splice  # type: ignore[misc]
        tail = _SEEDS[other]
        data = data[: at % (len(data) + 1)] + tail[at % len(tail) :]
    return bytes(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(mutation, min_size=1, max_size=6))
def test_mutated_files_never_crash_a_scan(
    tmp_path_factory: pytest.TempPathFactory, files: list[tuple]
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    written = set()
    for number, (kind, flips, cut, splice) in enumerate(files):
        path = root / f"f{number}.{kind}"
        path.write_bytes(mutate(kind, flips, cut, splice))
        written.add(str(path))
    with Catalog(":memory:") as catalog, Library([root], catalog=catalog, config=CONFIG) as lib:
        summary = drain(lib.scan())
        records = {r.path: r for r in lib.records().values()}
        failed = {f.path: f.reason for f in summary.failures}
    # Every file ends hashed, or as a failure with a reason (an empty file is no image
    # at all to the walk when its extension is unknown: here every extension is known).
    assert set(records) == written
    for path, record in records.items():
        assert (record.phash is None) == (record.error is not None)
        if record.error is not None:
            assert record.error and failed[path] == record.error


def test_names_that_are_not_utf8_print_as_their_bytes(tmp_path: Path) -> None:
    # A UTF-8 terminal outside the C locale has strict errors; the command must not crash.
    root = tmp_path / "library"
    root.mkdir()
    photo = synthetic_photo(34, (200, 140))
    photo.save(root / os.fsdecode(os.fsencode(UNDECODABLE)), quality=90)
    photo.save(root / "copy.png")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONPATH=str(ROOT))
    catalog = str(tmp_path / "c.sqlite")
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "pairs", str(root), "--catalog", catalog],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert os.fsencode(UNDECODABLE) in done.stdout

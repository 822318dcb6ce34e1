"""The corpus of ``benchmarks/quality.py``: real photographs, their copies, and distractors.

Sources, all of them real files a fresh machine can get from a package registry:

- Debian's ``plasma-workspace-wallpapers``, ``mate-backgrounds``, ``ukui-wallpapers`` and
  ``lomiri-wallpapers-20.04`` (installed with ``apt-get`` when missing and allowed). Only
  the photographs among them get copies; the illustrations and abstract art become
  *distractors* (unrelated pictures that must not be matched with anything).
- The sample photographs shipped inside the scikit-learn wheel (``china.jpg`` and
  ``flower.jpg``, what ``sklearn.datasets.load_sample_images`` returns) and the
  scikit-image wheel (``skimage/data``: astronaut, coffee, rocket, ...). When the package
  is importable its files are used; otherwise ``pip download --no-deps`` fetches the wheel
  into the cache folder and the images are read from it, so nothing is installed into
  any environment.

A source that cannot be had (no apt, no network) is skipped and reported.

Families of near-identical files inside a source (one wallpaper in several sizes, its
"dark" variant, the same pattern in four colourings, a stereo pair) would be counted as
false positives if they were distractors, so only one member of each is used: the
largest file of a Plasma wallpaper's ``images`` folder, one "Elephants", one
"Ubuntu-Mate", one motorcycle.

Each photo becomes an *original* (upright, RGB, long side at most ``max_side`` px, JPEG
quality 95) and one copy per transformation in :data:`KINDS`, made from the same pixels
as a photographer's export would be.
"""

from __future__ import annotations

import dataclasses
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import crop_kinds

from desktop_app.demo import write_variant

#: Transformations, in table order, with what each does. ``exact`` is a byte copy;
#: ``resize25`` is made here; the others are ``desktop_app.demo.write_variant`` kinds.
KINDS: dict[str, str] = {
    "exact": "byte-identical copy",
    "resize50": "50 % resize, JPEG q90",
    "resize25": "25 % resize, JPEG q90",
    "jpeg30": "re-saved as JPEG quality 30",
    "png": "saved as PNG",
    "webp": "saved as WebP q80",
    "exif_rotated": "pixels turned 90 degrees, EXIF orientation 6 (displays the same)",
    "crop5": "5 % of width and height cut, half on each side",
    "crop10": "10 % of width and height cut, half on each side",
    "border_black": "black frame, 6 % of each side",
    "border_white": "white frame, 10 % of each side",
    "border_colour": "slate letterbox bands, 12 % top and bottom",
    "watermark": "semi-transparent text, lower right",
    "brighten": "brightness x1.25",
    "greyscale": "converted to greyscale",
    "noise": "Gaussian noise, sigma 10 levels",
    "mirror": "mirrored left-right",
    "rotate90": "turned 90 degrees, no EXIF tag",
    **crop_kinds.CROP_KINDS,
    **crop_kinds.NEGATIVE_KINDS,
}

#: Photographs among the Plasma wallpapers (the rest are illustrations: distractors).
PLASMA_PHOTOS = frozenset(
    {
        "BytheWater",
        "ColdRipple",
        "ColorfulCups",
        "DarkestHour",
        "EveningGlow",
        "FallenLeaf",
        "Grey",
        "Kite",
        "OneStandsOut",
        "Path",
        "summer_1am",
    }
)
#: MATE backgrounds used as distractors (one per family; the transparent overlays and
#: the near-uniform stripes are left out). Everything under ``nature/`` is a photograph.
MATE_DISTRACTORS = (
    "abstract/Elephants.jpg",
    "abstract/Flow.png",
    "abstract/Gulp.png",
    "desktop/Float-into-MATE.png",
    "desktop/GreenTraditional.jpg",
    "desktop/Stripes.png",
    "desktop/Ubuntu-Mate-Warm-no-logo.png",
)
LOMIRI_PHOTOS = frozenset({"Kleiber_by_Lukas_Baubkus.jpg"})
LOMIRI_FILES = (
    "Fossa_by_Jasper_Roks.jpg",
    "Infinite-Sea_by_Aury88.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
    "Painting-Colors_by__herobrine7gamer.jpg",
)
UKUI_FILES = (
    "2004default.jpg",
    "calla.png",
    "city.png",
    "desert.png",
    "firstgeneration.jpg",
    "fluent-color.png",
    "focal-ubuntukylin.png",
    "goldfish.png",
    "rhythm.jpg",
    "rollpaper.png",
    "string.jpg",
    "the-mouse.jpg",
)
#: Photographs in scikit-image's wheel (skimage/data). Left out: drawings, charts,
#: synthetic test patterns, a silhouette, and motorcycle_right (a stereo twin of _left).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")

#: Where each source's files came from (package and version), filled in by :func:`gather`.
ORIGINS: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class SourceImage:
    """One picture of a source: a photograph (gets copies) or a distractor."""

    name: str
    source: str
    photo: bool
    data: Callable[[], bytes]


@dataclasses.dataclass
class Corpus:
    """The files written, with their ground truth."""

    root: Path
    #: path -> (label, kind); files with the same label are copies of one picture.
    files: dict[str, tuple[str, str]]
    #: source name -> (photos, distractors) it gave, or the reason it was skipped.
    sources: dict[str, tuple[int, int] | str]

    def originals(self) -> dict[str, str]:
        """label -> path of the original."""
        return {label: p for p, (label, kind) in self.files.items() if kind == "original"}


# ----------------------------------------------------------------- sources


def _apt_install(package: str, allow: bool) -> str | None:
    """Install a Debian package if missing; None on success, else the reason."""
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    if status.returncode == 0 and "install ok installed" in status.stdout:
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        ).stdout
        ORIGINS[package] = f"Debian package {package} {version}"
        return None
    if not allow:
        return "not installed (--no-install)"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return f"not installed; run: sudo apt-get install {package}"
    print(f"installing {package} with apt-get ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
            capture_output=True,
            text=True,
            env=env,
        )
    if result.returncode != 0:
        return "apt-get install failed: " + result.stderr.strip().splitlines()[-1:][0]
    return None


def _file_reader(path: str) -> Callable[[], bytes]:
    return lambda: Path(path).read_bytes()


def _plasma(allow: bool) -> Iterator[SourceImage] | str:
    reason = _apt_install("plasma-workspace-wallpapers", allow)
    if reason:
        return reason
    items = []
    for folder in sorted(glob.glob("/usr/share/wallpapers/*/contents/images")):
        name = Path(folder).parent.parent.name
        files = sorted(glob.glob(os.path.join(folder, "*")), key=os.path.getsize)
        if files:
            items.append(
                SourceImage(name, "plasma", name in PLASMA_PHOTOS, _file_reader(files[-1]))
            )
    return iter(items)


def _mate(allow: bool) -> Iterator[SourceImage] | str:
    reason = _apt_install("mate-backgrounds", allow)
    if reason:
        return reason
    base = "/usr/share/backgrounds/mate"
    items = [
        SourceImage(Path(p).stem, "mate", True, _file_reader(p))
        for p in sorted(glob.glob(f"{base}/nature/*.jpg"))
    ]
    items += [
        SourceImage(Path(rel).stem, "mate", False, _file_reader(f"{base}/{rel}"))
        for rel in MATE_DISTRACTORS
        if os.path.exists(f"{base}/{rel}")
    ]
    return iter(items)


def _listed(package: str, files: tuple[str, ...], photos: frozenset[str], tag: str, allow: bool):
    reason = _apt_install(package, allow)
    if reason:
        return reason
    return iter(
        SourceImage(Path(f).stem, tag, f in photos, _file_reader(f"/usr/share/backgrounds/{f}"))
        for f in files
        if os.path.exists(f"/usr/share/backgrounds/{f}")
    )


def _wheel_files(
    package: str, module: str, folder: str, names: tuple[str, ...], cache: Path, allow: bool
):
    """Files of ``folder`` inside ``package``: from the installed module, else its wheel."""
    try:
        imported = __import__(module)
        base = Path(imported.__file__).parent / folder
        if all((base / n).exists() for n in names):
            version = getattr(imported, "__version__", "?")
            return {n: _file_reader(str(base / n)) for n in names}, f"{package} {version}"
    except ImportError:
        pass
    wheels = sorted(cache.glob(f"{package.replace('-', '_')}-*.whl"))
    if not wheels:
        if not allow:
            return f"{package} not importable and no wheel cached (--no-install)"
        print(f"downloading the {package} wheel with pip ...", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-q",
                "-d",
                str(cache),
                package,
            ],
            capture_output=True,
            text=True,
        )
        wheels = sorted(cache.glob(f"{package.replace('-', '_')}-*.whl"))
        if not wheels:
            return "pip download failed: " + (result.stderr.strip().splitlines() or ["?"])[-1]
    wheel = wheels[-1]
    out = {}
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
        for n in names:
            member = f"{module}/{folder}/{n}"
            if member in members:
                out[n] = lambda m=member, w=wheel: zipfile.ZipFile(w).read(m)
    return out, wheel.name


def _sklearn(cache: Path, allow: bool) -> Iterator[SourceImage] | str:
    found = _wheel_files("scikit-learn", "sklearn", "datasets/images", SKLEARN_PHOTOS, cache, allow)
    if isinstance(found, str):
        return found
    files, origin = found
    ORIGINS["sklearn"] = origin
    return iter(
        SourceImage(Path(n).stem, "sklearn", True, files[n]) for n in SKLEARN_PHOTOS if n in files
    )


def _skimage(cache: Path, allow: bool) -> Iterator[SourceImage] | str:
    found = _wheel_files("scikit-image", "skimage", "data", SKIMAGE_PHOTOS, cache, allow)
    if isinstance(found, str):
        return found
    files, origin = found
    ORIGINS["skimage"] = origin
    return iter(
        SourceImage(Path(n).stem, "skimage", True, files[n]) for n in SKIMAGE_PHOTOS if n in files
    )


SOURCES = ("plasma", "mate", "ukui", "lomiri", "sklearn", "skimage")


def gather(
    cache: Path, allow_install: bool, only: tuple[str, ...] = SOURCES
) -> tuple[list[SourceImage], dict[str, tuple[int, int] | str]]:
    """Every source image we can get, and per source what it gave or why it was skipped."""
    makers: dict[str, Callable[[], Iterator[SourceImage] | str]] = {
        "plasma": lambda: _plasma(allow_install),
        "mate": lambda: _mate(allow_install),
        "ukui": lambda: _listed("ukui-wallpapers", UKUI_FILES, frozenset(), "ukui", allow_install),
        "lomiri": lambda: _listed(
            "lomiri-wallpapers-20.04", LOMIRI_FILES, LOMIRI_PHOTOS, "lomiri", allow_install
        ),
        "sklearn": lambda: _sklearn(cache, allow_install),
        "skimage": lambda: _skimage(cache, allow_install),
    }
    images: list[SourceImage] = []
    report: dict[str, tuple[int, int] | str] = {}
    for name in only:
        try:
            got = makers[name]()
        except Exception as error:  # a source must never stop the benchmark
            got = f"failed: {error}"
        if isinstance(got, str):
            report[name] = got
            print(f"source {name} skipped: {got}", file=sys.stderr)
            continue
        items = list(got)
        images += items
        report[name] = (sum(i.photo for i in items), sum(not i.photo for i in items))
    return images, report


# ----------------------------------------------------------------- corpus


def _upright_rgb(data: bytes, max_side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (255, 255, 255))
            image.paste(rgba, mask=rgba.getchannel("A"))
        else:
            image = image.convert("RGB")
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _write_copy(picture: Image.Image, original: Path, kind: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "exact":
        out = target.with_suffix(original.suffix)
        shutil.copyfile(original, out)
        return out
    if kind in crop_kinds.CROP_KINDS or kind in crop_kinds.NEGATIVE_KINDS:
        return crop_kinds.write(picture, kind, target)
    if kind == "resize25":
        out = target.with_suffix(".jpg")
        width, height = picture.size
        small = picture.resize((max(1, width // 4), max(1, height // 4)), Image.Resampling.LANCZOS)
        small.save(out, "JPEG", quality=90)
        return out
    return write_variant(picture, kind, target)


def build(
    root: Path,
    images: list[SourceImage],
    sources: dict[str, tuple[int, int] | str],
    *,
    max_side: int = 2048,
    kinds: tuple[str, ...] = tuple(KINDS),
) -> Corpus:
    """Write originals, copies and distractors under ``root`` (reused if complete).

    Args:
        root: An empty or previously built corpus folder.
        images: From :func:`gather`.
        sources: Its report, stored with the corpus.
        max_side: Long side of the originals, in pixels.
        kinds: Transformations to make.

    Returns:
        The corpus with its ground truth.
    """
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        saved = json.loads(manifest_path.read_text())
        if (
            saved.get("max_side") == max_side
            and saved.get("kinds") == list(kinds)
            and saved.get("names") == [f"{i.source}/{i.name}" for i in images]
        ):
            files = {p: (label, kind) for p, (label, kind) in saved["files"].items()}
            return Corpus(root, files, sources)
        shutil.rmtree(root / "library", ignore_errors=True)
    library = root / "library"
    files: dict[str, tuple[str, str]] = {}
    for number, item in enumerate(images):
        label = f"{item.source}/{item.name}"
        try:
            picture = _upright_rgb(item.data(), max_side)
        except Exception as error:
            print(f"  cannot read {label}: {error}", file=sys.stderr)
            continue
        if not item.photo:
            out = library / "distractors" / f"{item.source}-{item.name}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            picture.save(out, "JPEG", quality=95)
            files[str(out)] = (label, "distractor")
            continue
        original = library / "originals" / f"{item.source}-{item.name}.jpg"
        original.parent.mkdir(parents=True, exist_ok=True)
        picture.save(original, "JPEG", quality=95)
        files[str(original)] = (label, "original")
        for kind in kinds:
            written = _write_copy(
                picture, original, kind, library / kind / f"{item.source}-{item.name}"
            )
            # A negative is another shot, not a copy: it gets a label of its own.
            negative = kind in crop_kinds.NEGATIVE_KINDS
            files[str(written)] = (f"{label}#{kind}" if negative else label, kind)
        print(f"  {number + 1}/{len(images)} {label}", file=sys.stderr)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(
        json.dumps(
            {
                "max_side": max_side,
                "kinds": list(kinds),
                "names": [f"{i.source}/{i.name}" for i in images],
                "files": files,
            }
        )
    )
    return Corpus(root, files, sources)

"""From a photo file to its features: 64-bit pHash, rotation variants, digest, metadata.

THE HASH (what :data:`HASH_VERSION` versions). imagehash's pHash algorithm, applied to a
reduced, upright, border-trimmed greyscale picture:

1. Decode at reduced scale. JPEGs go through libjpeg's DCT scaling (``Image.draft``
   with mode "L" and 256x256 requested, so the 1/2, 1/4 or 1/8 scale keeps at least
   256 px on the short side, and libjpeg emits only the luma channel). Other formats are
   decoded in full and box-reduced by the same rule, so both end at the same size.
2. Apply the EXIF orientation; cut flat borders (``borders.py``) unless disabled.
3. Resize to 32x32 with LANCZOS and ``reducing_gap=2.0`` (an integer box reduction to
   at least 64 px first; far cheaper than a plain LANCZOS resize, same hash on photos).
4. ``scipy.fftpack.dct`` on both axes, keep the 8x8 low-frequency block, compare each
   coefficient with the block's median. Bit 63 of the integer is the block's [0, 0]
   (the DC term), so ``format(h, "016x") == str(imagehash.phash(...))`` for the same
   32x32 pixels. For pictures under 128 px a side, steps 1-3 change nothing and the hash
   equals ``imagehash.phash`` exactly; on camera JPEGs the draft decode moves it by at
   most a couple of bits against a full decode (``tests/engine/test_hash_pinned.py``
   pins values so that a Pillow or scipy upgrade that changes them fails a test).

ROTATIONS. A quarter turn or a mirror of the 32x32 picture is a signed permutation of
its DCT: mirroring left-right negates the odd column frequencies (cos(pi l (2(N-1-n)+1)
/ 2N) = (-1)^l cos(pi l (2n+1) / 2N)), top-bottom the odd rows, and a transpose
transposes the block. So the eight variants come from the one 8x8 block, each with its
own median (sign changes move it), at a cost of microseconds and no second decode.

SPEED. The floor is the entropy decoding of the JPEG, which nothing can skip. Around it
we read the file once (one ``read`` into bytes), digest those bytes with xxh3-128,
decode from a ``BytesIO`` over the same bytes, parse only the EXIF tags
we need, and work on the ~750x500 draft from there on. Everything costly to set up
(scipy's import, Pillow's plugin registry, pillow-heif, rawpy) happens once per process.
``benchmarks/hashing.py`` measures the result against a bare draft decode.
"""

from __future__ import annotations

import logging
import os
import stat

import numpy as np
import numpy.typing as npt
import scipy.fftpack
import xxhash
from PIL import Image

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging import budget, reading, windows
from desktop_app.engine.imaging import capture as capture_reader
from desktop_app.engine.imaging import identity as pixel_identity
from desktop_app.engine.imaging.borders import find_content_box
from desktop_app.engine.imaging.formats import PILLOW_FORMATS
from desktop_app.engine.imaging.loading import (
    OpenedImage,
    apply_orientation,
    failure_reason,
    is_raw,
    is_raw_name,
    open_image,
    os_error_reason,
    sniff_format,
    to_grey,
)
from desktop_app.engine.imaging.raw import open_raw_file
from desktop_app.engine.types import FileFailure, ImageFeatures, Transform

log = logging.getLogger(__name__)

#: Bytes of a camera RAW file read for its capture identity (its TIFF directories).
RAW_HEAD_BYTES = 256 * 1024

#: Version of the hash definition above. Bump it whenever stored values would change
#: (algorithm, resampling, trimming rules, draft scale); the catalog re-hashes on mismatch.
#: 2: a flat run is cut as a border only if it is one exact colour (borders.RUN_NOISE),
#: which changes the hash of photos with fog or a plain backdrop at an edge.
#: 3: window hashes (``windows.py``) are part of a photo's features.
HASH_VERSION = 3

#: The side of the square picture the DCT runs on, and of the low-frequency block kept.
DCT_SIZE = 32
HASH_SIZE = 8
#: The short side we reduce to (at least) before trimming and the final resize.
REDUCED_SIDE = 256

FloatBlock = npt.NDArray[np.float64]

#: Formats opened as themselves; any other name ``open_image`` gives is a camera RAW's.
PIXEL_FORMATS = PILLOW_FORMATS | {"HEIF"}

# For each Transform, as applied by PIL.Image.transpose to the picture: whether the 8x8
# DCT block is transposed, and then whether its odd rows / odd columns change sign.
# Derived from numpy's equivalents of PIL's methods (ROTATE_90 is counter-clockwise:
# np.rot90(a) == flipud(a.T)); tests check each against hashing the transposed picture.
_TRANSFORM_OPS: dict[Transform, tuple[bool, bool, bool]] = {
    Transform.IDENTITY: (False, False, False),
    Transform.ROTATE_90: (True, True, False),
    Transform.ROTATE_180: (False, True, True),
    Transform.ROTATE_270: (True, False, True),
    Transform.FLIP_LEFT_RIGHT: (False, False, True),
    Transform.FLIP_TOP_BOTTOM: (False, True, False),
    Transform.TRANSPOSE: (True, False, False),
    Transform.TRANSVERSE: (True, True, True),
}


def _build_variant_ops() -> tuple[npt.NDArray[np.bool_], FloatBlock]:
    """Per transform: a transpose flag and the +-1 sign pattern, as stacked arrays."""
    odd = (np.arange(HASH_SIZE) % 2).astype(bool)
    transpose = np.zeros(len(Transform), bool)
    signs = np.ones((len(Transform), HASH_SIZE, HASH_SIZE))
    for transform, (swap, rows, cols) in _TRANSFORM_OPS.items():
        transpose[transform] = swap
        if rows:
            signs[transform][odd, :] *= -1.0
        if cols:
            signs[transform][:, odd] *= -1.0
    return transpose, signs


_VARIANT_TRANSPOSE, _VARIANT_SIGNS = _build_variant_ops()
_BIT_WEIGHTS = np.array([1 << (63 - i) for i in range(64)], dtype=np.uint64)


def hash_file(
    path: str, config: EngineConfig, *, identity: bool = True
) -> ImageFeatures | FileFailure:
    """Hash one photo file. Runs in the scan's worker processes.

    Never raises for a problem with the file: it comes back as a :class:`FileFailure`
    with a short reason for the user. Failures are logged at DEBUG only, since worker
    processes have no logging set up; the scan reports them.

    Args:
        path: The file.
        config: Engine settings (``max_pixels``, ``rotations``, ``trim_borders``).

    Returns:
        The photo's features, or why it could not be hashed. A file that no longer
        exists gives ``FileFailure(gone=True)``; one whose size or modification time
        changed while we read it gives the reason "changed while being read".
    """
    size = mtime_ns = 0
    reader = reading.current()
    opened: OpenedImage | None = None
    data = b""
    try:
        with open(path, "rb", buffering=0) as file:
            before = os.fstat(file.fileno())
            size, mtime_ns = before.st_size, before.st_mtime_ns
            if not stat.S_ISREG(before.st_mode):
                return FileFailure(path, size, mtime_ns, "not a regular file")
            # Peek first, so that a large video or archive misnamed .jpg is not read
            # into memory just to be refused.
            head = os.pread(file.fileno(), 32, 0)
            if sniff_format(head) is None and not is_raw_name(path):
                return FileFailure(
                    path, size, mtime_ns, "empty file" if not head else "not an image"
                )
            with reader.turn():
                if reads_whole_file(head, path):
                    data = reader.read_all(file.fileno(), before.st_ino)
                else:
                    with reader.foreign(before.st_ino):
                        opened = open_raw_file(path, config.max_pixels)
                    # The TIFF directories of most RAW formats sit at the start: the
                    # capture identity reads them from this much of the file.
                    data = os.pread(file.fileno(), RAW_HEAD_BYTES, 0)
            after = os.fstat(file.fileno())
    except FileNotFoundError:
        return FileFailure(path, size, mtime_ns, "file no longer exists", gone=True)
    except UnreadableImage as exc:
        log.debug("cannot hash %s: %s", path, exc.reason)
        return FileFailure(path, size, mtime_ns, exc.reason)
    except OSError as exc:
        log.debug("cannot read %s", path, exc_info=True)
        return FileFailure(path, size, mtime_ns, os_error_reason(exc))
    if (after.st_size, after.st_mtime_ns) != (size, mtime_ns) or (
        opened is None and len(data) != after.st_size
    ):
        return FileFailure(path, after.st_size, after.st_mtime_ns, "changed while being read")
    try:
        if opened is None:
            return _features(data, path, size, mtime_ns, config, identity)
        return _opened_features(opened, None, data, path, size, mtime_ns, config, identity)
    except UnreadableImage as exc:
        log.debug("cannot hash %s: %s", path, exc.reason)
        return FileFailure(path, size, mtime_ns, exc.reason)
    except Exception as exc:  # a decoder bug must cost one file, never the scan
        log.debug("unexpected error hashing %s", path, exc_info=True)
        return FileFailure(path, size, mtime_ns, failure_reason(exc, None))


def reads_whole_file(head: bytes, name: str) -> bool:
    """Whether hashing reads the file whole, and so digests it at no extra cost.

    This decides what gets a digest while hashing. A camera RAW file does not: LibRaw
    reads its headers and embedded preview from the path, a few hundred KB of tens of
    MB, and its ``digest`` stays None until the scan finds another file of the same size
    (only files of equal size can be identical; ``scanner.digest_same_sizes``).

    Args:
        head: The file's first 32 bytes.
        name: Its name (TIFF-shaped RAW files are told by extension).
    """
    return not is_raw(head, name)


def hash_bytes(data: bytes, name: str, config: EngineConfig) -> ImageFeatures:
    """Hash a photo given as bytes: a query image dropped or pasted onto the window.

    Args:
        data: The whole file.
        name: A name for it (its extension tells TIFF-shaped RAW files apart).
        config: Engine settings.

    Returns:
        Its features, with ``size=len(data)`` and ``mtime_ns=0``.

    Raises:
        UnreadableImage: The bytes are not a readable image.
    """
    return _features(data, name, len(data), 0, config)


def hash_image(image: Image.Image, config: EngineConfig) -> tuple[int, tuple[int, ...]]:
    """pHash (and rotation variants) of an already upright Pillow image.

    Args:
        image: Any mode; it is converted to greyscale as :func:`loading.to_grey` does.
        config: ``trim_borders`` and ``rotations`` are honoured.

    Returns:
        ``(phash, variants)``; ``variants`` is empty unless ``config.rotations``.
    """
    return _hash_grey(to_grey(image), config)


def _features(
    data: bytes,
    path: str,
    size: int,
    mtime_ns: int,
    config: EngineConfig,
    identity: bool = True,
) -> ImageFeatures:
    """Digest, decode and hash the bytes of one file. Raises UnreadableImage.

    ``identity=False`` skips what issue 9 added (capture identity, pixel digest,
    sharpness): ``benchmarks/hashing.py`` measures their cost against it.
    """
    digest = xxhash.xxh3_128(data).digest()
    opened = open_image(data, path, config.max_pixels)
    return _opened_features(opened, digest, data, path, size, mtime_ns, config, identity)


def _opened_features(
    opened: OpenedImage,
    digest: bytes | None,
    data: bytes,
    path: str,
    size: int,
    mtime_ns: int,
    config: EngineConfig,
    identity: bool = True,
) -> ImageFeatures:
    """Decode (at reduced size where the format allows) and hash an opened picture.

    ``data`` is the file's bytes (for a camera RAW file read through LibRaw, only its
    first :data:`RAW_HEAD_BYTES`): the capture identity and a JPEG's pixel digest come
    from them.
    """
    image = opened.image
    jpeg = image.format in ("JPEG", "MPO")
    pixels: bytes | None = None
    greyscale = False
    capture = None
    sharp = None
    raw = opened.format not in PIXEL_FORMATS
    if identity:
        capture = capture_reader.read_capture(image, path, data=data, raw=raw)
        if jpeg and not raw:
            pixels, components = pixel_identity.jpeg_scan(data)
            greyscale = components == 1
    try:
        reduce_on_decode(image)
        with budget.current().hold(budget.decoded_bytes(image)):
            image.load()
        if identity and not jpeg and not raw:
            pixels = pixel_identity.pixel_digest(image)
            greyscale = pixel_identity.is_grey_mode(image)
        grey = apply_orientation(to_grey(image), opened.exif.orientation)
        if identity:
            grey = reduce_for_hash(grey)  # _hash_and_kept's own reduction is then a no-op
            sharp = pixel_identity.sharpness(grey)
        phash, variants, kept, mean, window_hashes = _hash_and_kept(grey, config)
    except Exception as exc:
        raise UnreadableImage(path, failure_reason(exc, opened.format)) from exc
    return ImageFeatures(
        path=path,
        size=size,
        mtime_ns=mtime_ns,
        digest=digest,
        phash=phash,
        width=opened.width,
        height=opened.height,
        format=opened.format,
        taken=opened.exif.taken,
        camera=opened.exif.camera,
        variants=variants,
        # Measured at reduced scale: to within a few pixels of the full-size picture.
        content_width=round(opened.width * kept[0]),
        content_height=round(opened.height * kept[1]),
        capture=capture,
        pixel_digest=pixels,
        sharpness=sharp,
        greyscale=greyscale,
        brightness=round(mean, 2) if identity else None,
        windows=window_hashes,
    )


def reduce_on_decode(image: Image.Image) -> None:
    """Ask the decoder for a smaller picture where the format can decode one directly.

    JPEG: libjpeg's DCT scaling, luma only (``Image.draft``). JPEG 2000: the wavelet
    resolution level (``reduce``), by the same rule. Other formats decode whole, and
    :func:`reduce_for_hash` reduces them afterwards.
    """
    if image.format in ("JPEG", "MPO"):
        # Only luma, at the largest DCT scale that keeps >= 256 px on the short side.
        image.draft("L", (REDUCED_SIDE, REDUCED_SIDE))
    elif image.format == "JPEG2000":
        levels = {8: 3, 4: 2, 2: 1}.get(reduction_scale(*image.size), 0)
        if levels:
            image.reduce = levels  # type: ignore[method-assign,assignment]


def reduction_scale(width: int, height: int) -> int:
    """The factor ``Image.draft`` picks for our 256x256 request: 8, 4, 2 or 1.

    Args:
        width: Picture width.
        height: Picture height.

    Returns:
        The largest of those that keeps at least :data:`REDUCED_SIDE` px on the short side.
    """
    scale = min(width // REDUCED_SIDE, height // REDUCED_SIDE)
    return next((s for s in (8, 4, 2) if scale >= s), 1)


def reduce_for_hash(grey: Image.Image) -> Image.Image:
    """Box-reduce as the JPEG draft does, until the short side is under 2 x 256 px.

    Non-JPEG formats arrive at full size, JPEGs at up to 1/8 of it; repeating the
    draft's own rule (see :func:`reduction_scale`) brings both to the same size, so that
    trimming sees the same picture (and costs the same) whatever the format, and a
    48 MP JPEG and its PNG copy hash alike.

    Args:
        grey: An "L" image of any size.

    Returns:
        The reduced image (the same object when it is already small enough).
    """
    while (scale := reduction_scale(*grey.size)) > 1:
        grey = grey.reduce(scale)
    return grey


def dct_block(grey: Image.Image, trim: bool = True) -> FloatBlock:
    """The 8x8 low-frequency DCT block of a greyscale picture, as pHash defines it.

    Args:
        grey: An "L" image, upright.
        trim: Cut flat borders first.

    Returns:
        The top-left 8x8 of the 2-D DCT-II (scipy.fftpack, unnormalised) of the 32x32
        LANCZOS reduction.
    """
    return _trimmed_block(grey, trim)[0]


def _trimmed_block(
    grey: Image.Image, trim: bool
) -> tuple[FloatBlock, tuple[float, float], Image.Image]:
    """:func:`dct_block`, the share of the width and height the picture keeps once
    its flat borders are trimmed ((1.0, 1.0) when there are none), and the reduced,
    trimmed picture itself (for the window hashes)."""
    grey = reduce_for_hash(grey)
    kept = (1.0, 1.0)
    if trim:
        box = find_content_box(np.asarray(grey))
        if box != (0, 0, grey.width, grey.height):
            kept = ((box[2] - box[0]) / grey.width, (box[3] - box[1]) / grey.height)
            grey = grey.crop(box)
    small = grey.resize((DCT_SIZE, DCT_SIZE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    pixels = np.asarray(small)
    # The same calls as imagehash.phash, so ties and rounding come out the same.
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)
    block: FloatBlock = np.ascontiguousarray(dct[:HASH_SIZE, :HASH_SIZE])
    return block, kept, grey


def block_hash(block: FloatBlock) -> int:
    """The 64-bit hash of an 8x8 DCT block, as imagehash orders its bits.

    Args:
        block: The block from :func:`dct_block`.

    Returns:
        An unsigned 64-bit int whose bit ``63 - i`` is ``block.flat[i] > median(block)``.
    """
    bits = block.ravel() > np.median(block)
    return int(np.bitwise_or.reduce(_BIT_WEIGHTS[bits], initial=np.uint64(0)))


def variant_hashes(block: FloatBlock) -> tuple[int, ...]:
    """The hashes of the eight :class:`Transform` s of the picture whose DCT is ``block``.

    Args:
        block: The 8x8 low-frequency block from :func:`dct_block`.

    Returns:
        Eight hashes, indexed by :class:`Transform` (identity first).
    """
    stacked = np.where(_VARIANT_TRANSPOSE[:, None, None], block.T[None], block[None])
    stacked = stacked * _VARIANT_SIGNS
    flat = stacked.reshape(len(Transform), HASH_SIZE * HASH_SIZE)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    values = np.bitwise_or.reduce(np.where(bits, _BIT_WEIGHTS, np.uint64(0)), axis=1)
    return tuple(int(value) for value in values)


def _hash_grey(grey: Image.Image, config: EngineConfig) -> tuple[int, tuple[int, ...]]:
    phash, variants, _, _, _ = _hash_and_kept(grey, config)
    return phash, variants


def _hash_and_kept(
    grey: Image.Image, config: EngineConfig
) -> tuple[int, tuple[int, ...], tuple[float, float], float, tuple[int, ...]]:
    """Hash, rotation variants, share kept by trimming, mean grey level (0-255, from the
    DCT's DC term: the unnormalised 2-D DCT-II's [0, 0] is 4 x the sum), window hashes."""
    block, kept, trimmed = _trimmed_block(grey, config.trim_borders)
    mean = float(block[0, 0]) / (4 * DCT_SIZE * DCT_SIZE)
    window_hashes = windows.window_hashes(trimmed)
    if config.rotations:
        variants = variant_hashes(block)
        return variants[Transform.IDENTITY], variants, kept, mean, window_hashes
    return block_hash(block), (), kept, mean, window_hashes

"""The geometric check: is one photo a copy of another, cropped, turned or mirrored?

A pHash match says two pictures look alike at 8x8 frequencies; for pairs that are not
certain from that alone (a window of one matched the other, a rotation variant matched,
or the whole-image distance is in the upper part of the slider's range) this module
looks at the pixels. Both pictures are reduced (the long side to :data:`WORK_SIDE`),
ORB keypoints and descriptors are taken from each, matched with Lowe's ratio test, and a
similarity transform (scale, rotation, shift) is fitted to the matches by RANSAC
(OpenCV's ``estimateAffinePartial2D``). A copy, however it was cropped, straightened or
resized, is one similarity away from its original: many matches agree with it, to a
fraction of a pixel, and once the first picture is warped onto the second the pixels of
their overlap agree too. Two different shots of one scene (a burst, a step to the side)
fail at least one of these: the subject moved, so the pixels of the overlap disagree, or
the camera moved, so the background follows a perspective change that a similarity
fits only loosely.

Grey first, colour when grey refuses. The pixels are compared in grey through one tone
curve; a copy whose colour channels were edited each its own way (brightened until red
and green clip but blue does not) is no grey curve of its original. A pair the grey
pixels refuse gets a second chance: each colour channel predicted from the same channel
of the other picture, through its own curve, before the blur (:func:`_channel_tones`),
under a stricter limit. The colour is read only then (``colour`` of :func:`compare`).
Where the edit clipped, a last look compares each channel on its own where neither
picture is near its clip (:func:`_unclipped_channels`): what clipped carries nothing to
compare, and a reduced pixel that mixes clipped and unclipped ones follows no curve.
These looks try the keypoints' fit as well as its refinement on the pixels, which
assumes a linear tone relation and can drift on a clipped copy.

Why recompute rather than store. ORB descriptors are 32 bytes each; the 700 a photo
gets here would add 22 KB per photo to the catalog (2.2 GB for 100,000 photos, where the
window hashes add 88 bytes), to serve the few pairs that need a check. Recomputing costs
one reduced decode and one ORB pass per photo involved (about 30 + 25 ms), the photo's
keypoints serve all its pairs within one call, and the verdicts are kept in the catalog
keyed by the two files' digests, so each pair is checked once (docs/benchmarks.md).

Pure functions on pixels; no catalog, no Qt. ``confirm.py`` runs them for the pairs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from desktop_app.engine.types import GeometryCheck, Transform

log = logging.getLogger(__name__)

#: Bump when the check would decide a pair differently: the verdicts kept in the catalog
#: (``confirm.py``) are then reached again. 2: the tone curve and the cell percentile.
#: 3: the second chance in colour (:data:`CHANNEL_CELL_ERROR`). 4: the look where the
#: edit did not clip (:data:`CLIPPED_CELL_ERROR`), under the keypoints' fit as well.
CHECK_VERSION = 4
#: Long side, in pixels, of the picture keypoints are taken from.
WORK_SIDE = 512
#: Keypoints per picture.
KEYPOINTS = 700
#: Lowe's ratio: a match is kept when its best descriptor distance is this much
#: smaller than the second best.
RATIO = 0.8
#: RANSAC's inlier distance, in pixels of the second picture at WORK_SIDE.
RANSAC_PIXELS = 3.0

# What a copy looks like (chosen with benchmarks/quality.py on the tuning half).
#: At least this many matches agree with the fitted similarity ...
MIN_INLIERS = 20
#: ... and they are at least this share of the matches that passed the ratio test.
MIN_INLIER_SHARE = 0.2
#: Median distance of the inliers from where the similarity puts them, in pixels.
MAX_RESIDUAL = 1.6
#: Correlation of the overlapping pixels once the first picture is warped onto the second.
MIN_CORRELATION = 0.9
#: ... and in the worst of the 4x4 cells of the overlap (where a moved subject shows),
#: the difference left unexplained (its :data:`CELL_PERCENTILE`), as a share of the
#: overlap's spread.
MAX_CELL_ERROR = 0.10
#: A cell's error is this percentile of its pixels' differences: a moved subject or a
#: camera that moved changes most of a cell, a watermark's thin strokes a quarter of it
#: at most, and a copy with a watermark is a copy.
CELL_PERCENTILE = 75.0
#: The overlap is cut into GRID x GRID cells for that test.
GRID = 4
#: Both pictures are blurred by this (Gaussian sigma, px) first: what is left of a
#: slightly imprecise fit or of resampling goes, a moved subject stays.
BLUR = 1.5
#: The overlap covers at least this share of the smaller picture.
MIN_OVERLAP = 0.3
#: A pair the grey pixels refuse is confirmed after all when each colour channel, predicted
#: from the same channel of the other picture through its own tone curve applied before
#: the blur, leaves at most this in the worst cell (and the correlation is still
#: :data:`MIN_CORRELATION`). Stricter than :data:`MAX_CELL_ERROR`: three curves explain
#: more than one, and a clipped channel explains away what moved in it.
CHANNEL_CELL_ERROR = 0.075
#: ... but only when the two overlaps' mean grey levels lie at least this far apart: a
#: pair whose tones did not move (a burst frame at the same exposure, most of what the
#: grey test refuses) has no tone edit for the second chance to explain, and is refused
#: without reading its colour. A cost limit, on the safe side: it never confirms a pair.
TONE_SHIFT = 2.0
#: A pair that both looks above refuse, and whose edit clipped (a channel lost at least
#: :data:`CLIPPED_SHARE` of the overlap to levels within :data:`CLIP_LEVELS` of 0 or
#: 255), is confirmed when each channel, compared on its own where neither picture is
#: within :data:`CLIP_MARGIN` levels (and a pixel) of its clip, leaves at most this in
#: its worst cell, over that channel's spread (:func:`_unclipped_channels`).
CLIPPED_CELL_ERROR = 0.12
#: A curve whose top (bottom) lies this close to 255 (0) clipped.
CLIP_LEVELS = 5
#: Levels kept away from the clip: a reduced pixel this near it may mix clipped ones.
CLIP_MARGIN = 2
#: Share of the overlap a channel lost to its clip for the edit to count as clipped.
CLIPPED_SHARE = 0.1
#: A channel whose unclipped part spreads less than this (levels) is too flat to judge.
MIN_CHANNEL_SPREAD = 3.0
#: Weights of R, G and B in the grey the channels are compared in (ITU-R 601, as JPEG's
#: luma and Pillow's "L").
LUMA = (0.299, 0.587, 0.114)

Grey = npt.NDArray[np.uint8]
#: Height x width x 3 (R, G, B), at the size of a :class:`Keypoints`' pixels.
Colour = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]
#: The two pictures' colour (or None for a grey picture), asked for only when needed.
ColourSource = Callable[[], tuple[Colour | None, Colour | None]]


@dataclass(frozen=True, slots=True)
class Keypoints:
    """What the check needs of one picture: its reduced pixels, keypoints, descriptors."""

    pixels: Grey
    points: FloatArray
    descriptors: Grey

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of ``pixels``."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


def prepare(grey: Image.Image, transform: Transform = Transform.IDENTITY) -> Image.Image:
    """The picture the check works on: turned by ``transform``, long side
    :data:`WORK_SIDE` (or less, never enlarged beyond twice its size).

    Args:
        grey: An upright "L" picture, its flat borders already cut (or the same picture
            in "RGB", for :func:`colour_pixels`: it comes out the same size).
        transform: Applied first (the pair's rotation or mirror).
    """
    if transform != Transform.IDENTITY:
        grey = grey.transpose(Image.Transpose(int(_PIL_TRANSPOSE[transform])))
    scale = WORK_SIDE / max(grey.size)
    scale = min(scale, 2.0)
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    if size != grey.size:
        grey = grey.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return grey


# Transform -> PIL.Image.Transpose value (the Transform enum follows PIL's meaning).
_PIL_TRANSPOSE = {
    Transform.ROTATE_90: Image.Transpose.ROTATE_90,
    Transform.ROTATE_180: Image.Transpose.ROTATE_180,
    Transform.ROTATE_270: Image.Transpose.ROTATE_270,
    Transform.FLIP_LEFT_RIGHT: Image.Transpose.FLIP_LEFT_RIGHT,
    Transform.FLIP_TOP_BOTTOM: Image.Transpose.FLIP_TOP_BOTTOM,
    Transform.TRANSPOSE: Image.Transpose.TRANSPOSE,
    Transform.TRANSVERSE: Image.Transpose.TRANSVERSE,
}


def keypoints(picture: Image.Image) -> Keypoints:
    """ORB keypoints and descriptors of a picture from :func:`prepare`."""
    pixels: Grey = np.ascontiguousarray(np.asarray(picture.convert("L"), dtype=np.uint8))
    found: Sequence[cv2.KeyPoint] = ()
    descriptors = None
    # Low-contrast pictures (fog, a plain backdrop) need a lower corner threshold.
    for threshold in (10, 4, 1):
        orb = cv2.ORB.create(
            nfeatures=KEYPOINTS, fastThreshold=threshold, edgeThreshold=15, patchSize=15
        )
        found, descriptors = orb.detectAndCompute(pixels, None)
        if len(found) >= KEYPOINTS // 4:
            break
    if descriptors is None or not found:
        return Keypoints(pixels, np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8))
    points = np.array([k.pt for k in found], dtype=np.float32).reshape(-1, 2)
    return Keypoints(pixels, points, np.asarray(descriptors, dtype=np.uint8))


def colour_pixels(picture: Image.Image) -> Colour:
    """The colour pixels of a picture from :func:`prepare` (an "RGB" one)."""
    pixels: Colour = np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))
    return pixels


def compare(
    a: Keypoints,
    b: Keypoints,
    *,
    turned: Transform = Transform.IDENTITY,
    colour: ColourSource | None = None,
) -> GeometryCheck:
    """Decide whether *a* is a copy of *b* (cropped, straightened, resized).

    Args:
        a: Keypoints of the first picture, already turned by the pair's transform.
        b: Keypoints of the second.
        turned: The transform ``a`` was turned by (only for the evidence).
        colour: Gives the colour pixels of *a* and *b* (:func:`colour_pixels`, the same
            size as their keypoints' pixels; None for a grey picture). Called only when
            the grey pixels refuse the pair; without it, or when either picture is grey,
            the second chance works on the grey pixels.

    Returns:
        The verdict, with its evidence.
    """
    if len(a.points) < MIN_INLIERS or len(b.points) < MIN_INLIERS:
        return GeometryCheck(False, reason="too few keypoints")
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    knn = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(good) < MIN_INLIERS:
        return GeometryCheck(False, reason=f"{len(good)} matches")
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    cv2.setRNGSeed(12345)
    fitted, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_PIXELS,
        maxIters=4000,
        confidence=0.999,
    )
    if fitted is None or mask is None:
        return GeometryCheck(False, reason="no transform")
    matrix: npt.NDArray[np.float64] = np.asarray(fitted, dtype=np.float64)
    inlier = mask.ravel().astype(bool)
    inliers = int(inlier.sum())
    if inliers < MIN_INLIERS or inliers < MIN_INLIER_SHARE * len(good):
        return GeometryCheck(False, inliers=inliers, reason=f"{inliers}/{len(good)} inliers")
    projected = src[inlier] @ matrix[:, :2].T + matrix[:, 2]
    residual = float(np.median(np.linalg.norm(projected - dst[inlier], axis=1)))
    if residual > MAX_RESIDUAL:
        return GeometryCheck(False, inliers=inliers, reason=f"residual {residual:.2f} px")
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    # Image y points down: a positive angle in these coordinates is a clockwise turn.
    angle = -math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
    overlap, worst, share, shift = _photometric(a, b, matrix)
    fits = [matrix]
    if worst > MAX_CELL_ERROR and share >= MIN_OVERLAP:
        # A keypoint fit can be off by a pixel at the far edges: refine it on the
        # pixels before blaming them. The refinement assumes a linear tone relation and
        # can drift where an edit clipped (`mate/Wood`'s brightened copy, which its
        # keypoints align with the original to 0.03 px, is moved by up to 0.9 px):
        # both fits are kept for the looks that follow, the refined one first where it
        # explains the grey better.
        refined = _refine(a, b, matrix)
        again = _photometric(a, b, refined)
        if again[1] < worst:
            fits.insert(0, refined)
            matrix, (overlap, worst, share, shift) = refined, again
        else:
            fits.append(refined)
    if share < MIN_OVERLAP:
        return GeometryCheck(False, inliers=inliers, reason=f"overlap {share:.2f}")
    how = ""
    if overlap < MIN_CORRELATION or worst > MAX_CELL_ERROR:
        if shift < TONE_SHIFT:  # no tone edit for a second chance to explain
            return GeometryCheck(
                False, inliers=inliers, reason=f"pixels differ (r {overlap:.3f}, cell {worst:.3f})"
            )
        first, second = colour() if colour is not None else (None, None)
        if first is not None and first.shape[:2] != a.pixels.shape:
            first = None  # the file changed since its keypoints were taken
        if second is not None and second.shape[:2] != b.pixels.shape:
            second = None
        chance = _second_chance(a, b, fits, first, second)
        if not chance.passed:
            return GeometryCheck(
                False,
                inliers=inliers,
                reason=f"pixels differ (r {overlap:.3f}, cell {worst:.3f}; {chance.said})",
            )
        matrix, overlap, worst, how = chance.matrix, chance.correlation, chance.cell, chance.how
    cropped, frame = _crop_frame(a, b, matrix, scale)
    evidence: list[str] = []
    if frame is not None:
        width = frame[2] - frame[0]
        evidence.append(
            f"crop of the original: {width * 100:.0f} % of its width, offset "
            f"({frame[0] * 100:.0f} %, {frame[1] * 100:.0f} %)"
        )
    evidence += _turn_evidence(turned, angle)
    evidence.append(f"{inliers} matching keypoints")
    measures = (
        f"{inliers}/{len(good)} inliers, residual {residual:.2f} px,{how} r {overlap:.3f},"
        f" cell {worst:.3f}"
    )
    if frame is not None:
        frame = (float(frame[0]), float(frame[1]), float(frame[2]), float(frame[3]))
    return GeometryCheck(True, tuple(evidence), cropped, frame, float(angle), inliers, measures)


@dataclass(frozen=True, slots=True)
class _Chance:
    """What the looks after the grey one found: whether a fit passed, which, and how."""

    passed: bool
    matrix: npt.NDArray[np.float64]
    correlation: float
    cell: float
    how: str
    said: str


def _second_chance(
    a: Keypoints,
    b: Keypoints,
    fits: Sequence[npt.NDArray[np.float64]],
    first: Colour | None,
    second: Colour | None,
) -> _Chance:
    """The looks at a pair the grey test refused, under each fit in turn (the keypoints'
    and the refined one, the better for the grey first): per channel
    (:func:`_channel_tones`, :data:`CHANNEL_CELL_ERROR`), then, where the edit clipped,
    per channel where it did not (:func:`_unclipped_channels`,
    :data:`CLIPPED_CELL_ERROR`). The first fit under which either passes decides; the
    correlation must be :data:`MIN_CORRELATION` under it either way."""
    said = []
    for fit in fits:
        view = _view(a, b, fit, first, second)
        correlation, cell = _channel_tones(b, view)
        if correlation < MIN_CORRELATION:
            said.append(f"per channel r {correlation:.3f}")
            continue
        if cell <= CHANNEL_CELL_ERROR:
            return _Chance(True, fit, correlation, cell, " per channel", "")
        unclipped = _unclipped_channels(b, view)
        if unclipped <= CLIPPED_CELL_ERROR:
            how = " per channel where unclipped"
            return _Chance(True, fit, correlation, unclipped, how, "")
        clip = f", where unclipped {unclipped:.3f}" if math.isfinite(unclipped) else ""
        said.append(f"per channel r {correlation:.3f}, cell {cell:.3f}{clip}")
    return _Chance(False, fits[0], 0.0, math.inf, "", "; ".join(said))


def _turn_evidence(turned: Transform, angle: float) -> list[str]:
    out: list[str] = []
    mirrored = turned in (
        Transform.FLIP_LEFT_RIGHT,
        Transform.FLIP_TOP_BOTTOM,
        Transform.TRANSPOSE,
        Transform.TRANSVERSE,
    )
    if mirrored:
        out.append("mirrored")
    quarter = {
        Transform.ROTATE_90: 90,
        Transform.ROTATE_180: 180,
        Transform.ROTATE_270: 270,
        Transform.FLIP_TOP_BOTTOM: 180,
        Transform.TRANSPOSE: 90,
        Transform.TRANSVERSE: 270,
    }.get(turned, 0)
    if quarter:
        out.append(f"turned {quarter} degrees")
    if abs(angle) >= 0.5:
        out.append(f"turned {abs(angle):.0f} degrees")
    return out


def _crop_frame(
    a: Keypoints, b: Keypoints, matrix: npt.NDArray[np.float64], scale: float
) -> tuple[str, tuple[float, float, float, float] | None]:
    """Which picture is a crop of the other, and its frame in that other one."""
    wa, ha = a.size
    wb, hb = b.size
    corners = np.array([[0, 0], [wa, 0], [wa, ha], [0, ha]], dtype=np.float64)
    in_b = corners @ matrix[:, :2].T + matrix[:, 2]
    x0, y0 = in_b.min(axis=0)
    x1, y1 = in_b.max(axis=0)
    # The frame of a inside b (clipped), as fractions of b.
    fa = (max(0.0, x0 / wb), max(0.0, y0 / hb), min(1.0, x1 / wb), min(1.0, y1 / hb))
    a_smaller = (fa[2] - fa[0]) * (fa[3] - fa[1])
    inverse = cv2.invertAffineTransform(matrix)
    corners_b = np.array([[0, 0], [wb, 0], [wb, hb], [0, hb]], dtype=np.float64)
    in_a = corners_b @ inverse[:, :2].T + inverse[:, 2]
    u0, v0 = in_a.min(axis=0)
    u1, v1 = in_a.max(axis=0)
    fb = (max(0.0, u0 / wa), max(0.0, v0 / ha), min(1.0, u1 / wa), min(1.0, v1 / ha))
    b_smaller = (fb[2] - fb[0]) * (fb[3] - fb[1])
    if a_smaller <= b_smaller and a_smaller < 0.95:
        return "a", fa
    if b_smaller < a_smaller and b_smaller < 0.95:
        return "b", fb
    return "", None


def _refine(a: Keypoints, b: Keypoints, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The keypoint fit refined on the pixels themselves (ECC, a similarity), so that
    what the cell test sees is what differs, not a fraction of a pixel of misfit."""
    warped = cv2.warpAffine(a.pixels, matrix, b.size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(
        np.full(a.pixels.shape, 255, np.uint8), matrix, b.size, flags=cv2.INTER_NEAREST
    )
    mask = cv2.erode(mask, np.ones((7, 7), np.uint8))
    try:
        _, found = cv2.findTransformECC(
            b.pixels.astype(np.float32),
            warped.astype(np.float32),
            np.eye(2, 3, dtype=np.float32),
            cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4),
            mask,
            5,
        )
    except cv2.error:
        return matrix
    # ECC maps b's coordinates into the warped a: compose its inverse with the fit.
    inverse = np.asarray(cv2.invertAffineTransform(np.asarray(found, np.float64)), np.float64)
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    refined: npt.NDArray[np.float64] = (np.vstack([inverse, [0.0, 0.0, 1.0]]) @ full)[:2]
    return refined


def _overlap(
    a: Keypoints, b: Keypoints, matrix: npt.NDArray[np.float64]
) -> tuple[Grey, npt.NDArray[np.bool_], float]:
    """*a*'s grey pixels warped onto *b*, where they are (away from the warped edge), and
    that overlap's share of the smaller picture."""
    wb, hb = b.size
    warped = np.asarray(
        cv2.warpAffine(a.pixels, matrix, (wb, hb), flags=cv2.INTER_LINEAR), dtype=np.uint8
    )
    mask_u8 = cv2.warpAffine(
        np.full(a.pixels.shape, 255, np.uint8), matrix, (wb, hb), flags=cv2.INTER_NEAREST
    )
    # Keep away from the warped edge, where interpolation mixes in the black outside.
    mask: npt.NDArray[np.bool_] = cv2.erode(mask_u8, np.ones((7, 7), np.uint8)) > 0
    scale2 = float(matrix[0, 0] ** 2 + matrix[1, 0] ** 2)
    smaller = min(a.pixels.size * scale2, float(b.pixels.size))
    share = float(mask.sum()) / max(1.0, smaller)
    return warped, mask, share


def _worst_cell(residual: FloatArray, mask: npt.NDArray[np.bool_], spread: float) -> float:
    """The largest :data:`CELL_PERCENTILE` of the absolute residual in the GRID x GRID
    cells of the overlap's bounding box, over ``spread``."""
    errors = _cell_errors(residual, mask, mask, spread)
    return float(np.nanmax(errors)) if not np.isnan(errors).all() else 0.0


def _cells(
    overlap: npt.NDArray[np.bool_],
) -> Iterator[tuple[int, int, tuple[slice, slice]]]:
    """The GRID x GRID cells of ``overlap``'s bounding box: row, column, and slices."""
    ys, xs = np.nonzero(overlap)
    top, bottom, left, right = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    for i in range(GRID):
        for j in range(GRID):
            r0, r1 = top + (bottom - top) * i // GRID, top + (bottom - top) * (i + 1) // GRID
            c0, c1 = left + (right - left) * j // GRID, left + (right - left) * (j + 1) // GRID
            yield i, j, (slice(r0, r1), slice(c0, c1))


def _judged(cell: npt.NDArray[np.bool_]) -> bool:
    """Whether a cell holds enough pixels to be judged (half of it, 16 at least)."""
    return bool(cell.sum() >= max(16, 0.5 * cell.size))


def _judged_cells(overlap: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Which cells of :func:`_cells` the overlap covers enough of to be judged."""
    judged = np.zeros((GRID, GRID), bool)
    for i, j, box in _cells(overlap):
        judged[i, j] = _judged(overlap[box])
    return judged


def _cell_errors(
    residual: FloatArray,
    where: npt.NDArray[np.bool_],
    overlap: npt.NDArray[np.bool_],
    spread: float,
) -> npt.NDArray[np.float64]:
    """The :data:`CELL_PERCENTILE` of the absolute residual at ``where``, over
    ``spread``, in each of the cells of ``overlap`` (:func:`_cells`); NaN for a cell
    where ``where`` does not hold enough pixels (:func:`_judged`)."""
    errors = np.full((GRID, GRID), np.nan)
    for i, j, box in _cells(overlap):
        cell = where[box]
        if _judged(cell):
            values = residual[box][cell]
            errors[i, j] = float(np.percentile(np.abs(values), CELL_PERCENTILE)) / spread
    return errors


def _photometric(
    a: Keypoints, b: Keypoints, matrix: npt.NDArray[np.float64]
) -> tuple[float, float, float, float]:
    """Once *a* is warped onto *b*: the correlation of their overlap (of one picture with
    the other through the tone curve of :func:`_tone_curve`), the worst 4x4 cell's error
    (what that curve leaves, as :data:`MAX_CELL_ERROR` says, over the predicted
    picture's spread), the overlap's share of the smaller picture, and how far apart the
    two overlaps' mean grey levels are (:data:`TONE_SHIFT`)."""
    warped, mask, share = _overlap(a, b, matrix)
    if mask.sum() < 256:
        return 0.0, 1e9, share, 0.0
    first = cv2.GaussianBlur(warped, (0, 0), BLUR).astype(np.float32)
    second = cv2.GaussianBlur(b.pixels, (0, 0), BLUR).astype(np.float32)
    x, y = first[mask], second[mask]
    xc, yc = x - x.mean(), y - y.mean()
    sx, sy = float(np.sqrt((xc * xc).mean())), float(np.sqrt((yc * yc).mean()))
    shift = abs(float(x.mean()) - float(y.mean()))
    if sx < 1.0 or sy < 1.0:
        return (1.0 if shift < 8 else 0.0), 0.0, share, shift

    # The edit may have gone either way (the brightened copy may be either picture),
    # and a curve can only predict the clipped picture from the one that kept its
    # highlights: fit both ways and keep the way that explains more.
    def unexplained(target: FloatArray, spread: float, source: FloatArray) -> float:
        left_over = target - _tone_curve(source, target)
        return float(np.sqrt((left_over * left_over).mean())) / spread

    if unexplained(x, sx, y) < unexplained(y, sy, x):
        x, y, sy = y, x, sx  # predict a from b: the same steps with the roles swapped
    fitted = _tone_curve(x, y)
    fc, yc = fitted - fitted.mean(), y - y.mean()
    spread = float(np.sqrt((fc * fc).mean()))
    overall = float((fc * yc).mean() / (spread * sy)) if spread > 0 else 0.0
    residual = np.zeros_like(second)
    residual[mask] = y - fitted
    return overall, _worst_cell(residual, mask, sy), share, shift


def _channel_tones(b: Keypoints, view: _View) -> tuple[float, float]:
    """The second chance of a pair the grey pixels refuse: the correlation and the worst
    cell's error (as :func:`_photometric` gives them) when each colour channel of one
    picture is predicted from the same channel of the other through its own monotone
    curve, and the prediction is compared in grey (:data:`LUMA`).

    Two things a single grey curve fitted to blurred pixels cannot follow. An edit that
    clips each channel where it reaches 255 (a brightened copy: red and green clip, blue
    does not) maps each channel through its own curve, but the copy's grey is then no
    function of the original's grey. And a clip does not commute with the blur: a blurred
    edge between dark ink and paper that clipped is not the clipped blurred edge. So the
    curves are fitted to the unblurred pixels and applied to them, and the prediction is
    blurred after, as the other picture is. With either picture grey (``first`` or
    ``second`` None) the one channel is the grey pixels.
    """
    warped, mask, source_a, source_b = view.warped, view.mask, view.source_a, view.source_b
    if mask.sum() < 256:
        return 0.0, 1e9
    wb, hb = b.size
    weights = LUMA if source_a.shape[2] == 3 else (1.0,)
    seen_a = cv2.GaussianBlur(warped, (0, 0), BLUR).astype(np.float32)
    seen_b = cv2.GaussianBlur(b.pixels, (0, 0), BLUR).astype(np.float32)
    best: tuple[float, FloatArray, FloatArray, float] | None = None
    # Both ways, as in _photometric: keep the way that explains more.
    for source, target, seen in ((source_a, source_b, seen_b), (source_b, source_a, seen_a)):
        predicted = np.zeros((hb, wb), np.float32)
        for channel, weight in enumerate(weights):
            curve = _tone_lut(source[..., channel][mask], target[..., channel][mask])
            predicted += (weight * curve).astype(np.float32)[source[..., channel]]
        predicted = np.asarray(cv2.GaussianBlur(predicted, (0, 0), BLUR), dtype=np.float32)
        y, fitted = seen[mask], predicted[mask]
        spread = float(y.std())
        if spread < 1.0:
            continue
        left_over = y - fitted
        unexplained = float(np.sqrt((left_over * left_over).mean())) / spread
        if best is None or unexplained < best[0]:
            best = (unexplained, y, fitted, spread)
    if best is None:
        return 0.0, 1e9
    _, y, fitted, spread = best
    fc, yc = fitted - fitted.mean(), y - y.mean()
    size = float(np.sqrt((fc * fc).mean()))
    overall = float((fc * yc).mean() / (size * spread)) if size > 0 else 0.0
    residual = np.zeros((hb, wb), np.float32)
    residual[mask] = y - fitted
    return overall, _worst_cell(residual, mask, spread)


@dataclass(frozen=True, slots=True)
class _View:
    """Both pictures under one fit, as the looks after the grey compare them."""

    #: *a*'s grey pixels warped onto *b*, and where they are (:func:`_overlap`).
    warped: Grey
    mask: npt.NDArray[np.bool_]
    #: The channels compared, height x width x channels: *a*'s colour warped onto *b*
    #: and *b*'s, or, with either picture grey, the grey pixels as the one channel.
    source_a: npt.NDArray[np.uint8]
    source_b: npt.NDArray[np.uint8]


def _view(
    a: Keypoints,
    b: Keypoints,
    matrix: npt.NDArray[np.float64],
    first: Colour | None,
    second: Colour | None,
) -> _View:
    """The pictures under ``matrix`` for :func:`_channel_tones` and
    :func:`_unclipped_channels` (``first``, ``second``: their colour, None if grey)."""
    warped, mask, _ = _overlap(a, b, matrix)
    if first is None or second is None:
        return _View(warped, mask, warped[..., None], b.pixels[..., None])
    wb, hb = b.size
    warped_colour = np.asarray(
        cv2.warpAffine(first, matrix, (wb, hb), flags=cv2.INTER_LINEAR), dtype=np.uint8
    )
    return _View(warped, mask, warped_colour, second)


def _unclipped_channels(b: Keypoints, view: _View) -> float:
    """The last look at a pair whose edit clipped: the worst cell error when each colour
    channel is compared on its own, over its own spread, only where neither picture is
    near that channel's clip (:data:`CLIPPED_CELL_ERROR`); infinity when this look
    cannot decide.

    A channel brightened until it clips keeps no trace of what was in its clipped part,
    and a pixel of the reduced picture that mixes clipped and unclipped pixels of the
    full-size one is no curve of the original's pixel (the average of clipped pixels is
    not the clip of their average): a pale picture brightened until red and green clip
    in most of it (`mate/Wood` of the quality benchmark) leaves, in grey, a residual the
    size of its remaining spread, while its blue channel, which did not clip, is the
    original's blue times 1.25 to a level. So each channel is compared where it still
    carries the picture: away (:data:`CLIP_MARGIN` levels, one pixel) from the level
    where its curve reaches the clip, in either picture.

    It decides only a pair whose edit did clip (a channel lost :data:`CLIPPED_SHARE` of
    the overlap to its clip; a pair that nothing clipped was decided by the looks
    before), and only where every cell of the overlap is still seen by a channel with
    a spread of :data:`MIN_CHANNEL_SPREAD` levels: a moved subject hidden in a region
    that clipped in every channel cannot pass unseen. Both ways (either picture may be
    the edit), keeping the way whose worst cell is smaller.
    """
    mask, source_a, source_b = view.mask, view.source_a, view.source_b
    if mask.sum() < 256:
        return math.inf
    wb, hb = b.size
    overlap = float(mask.sum())
    near = np.ones((3, 3), np.uint8)
    best = math.inf
    for source, target in ((source_a, source_b), (source_b, source_a)):
        # First what clipped, per channel (cheap); the cells only for an edit that did.
        channels = []
        for channel in range(source.shape[2]):
            seen = np.ascontiguousarray(source[..., channel])
            edited = np.ascontiguousarray(target[..., channel])
            curve = _tone_lut(seen[mask], edited[mask])
            valid = mask.copy()
            top, bottom = float(curve.max()), float(curve.min())
            if top >= 255 - CLIP_LEVELS:
                knee = int(np.argmax(curve >= top - 1.5))
                valid &= cv2.dilate(seen, near) < knee - CLIP_MARGIN
                valid &= cv2.dilate(edited, near) < top - CLIP_MARGIN
            if bottom <= CLIP_LEVELS:
                knee = 255 - int(np.argmax(curve[::-1] <= bottom + 1.5))
                valid &= cv2.erode(seen, near) > knee + CLIP_MARGIN
                valid &= cv2.erode(edited, near) > bottom + CLIP_MARGIN
            channels.append((seen, edited, curve, valid))
        if max(1.0 - float(valid.sum()) / overlap for *_, valid in channels) < CLIPPED_SHARE:
            continue
        errors: list[npt.NDArray[np.float64]] = []
        for seen, edited, curve, valid in channels:
            if valid.sum() < 256:
                continue
            predicted = cv2.GaussianBlur(curve.astype(np.float32)[seen], (0, 0), BLUR)
            other = cv2.GaussianBlur(edited, (0, 0), BLUR).astype(np.float32)
            spread = float(other[valid].std())
            if spread < MIN_CHANNEL_SPREAD:
                continue
            residual = np.zeros((hb, wb), np.float32)
            residual[valid] = other[valid] - predicted[valid]
            errors.append(_cell_errors(residual, valid, mask, spread))
        if not errors:
            continue
        seen_cells = np.stack(errors)
        if (np.isnan(seen_cells).all(axis=0) & _judged_cells(mask)).any():
            continue  # a cell no channel sees: this look cannot decide
        best = min(best, float(np.nanmax(seen_cells)))
    return best


def _tone_curve(x: FloatArray, y: FloatArray) -> FloatArray:
    """*y* predicted from *x* by the best non-decreasing tone curve (least squares).

    An edit that brightens, darkens, changes contrast or clips the highlights maps each
    grey level of the original to one level of the copy, the same everywhere in the
    picture, and never reverses their order: a monotone curve, which a gain and an
    offset fit only where nothing clips (a brightened copy's sky at 255). A moved subject
    is not a tone change: the curve, fitted over the whole overlap, leaves it in the
    residual. Fitted on the 256 grey levels by pool-adjacent-violators, weighted by how
    many pixels have each level.
    """
    levels = np.clip(np.rint(x), 0, 255).astype(np.intp)
    fitted: FloatArray = _tone_lut(levels, y)[levels].astype(np.float32)
    return fitted


def _tone_lut(
    levels: npt.NDArray[np.integer[Any]], y: npt.NDArray[np.number[Any]]
) -> npt.NDArray[np.float64]:
    """The curve of :func:`_tone_curve` as a table of the 256 levels, fitted to pixels at
    ``levels`` (0-255) whose other picture has ``y``; a level no pixel has gets the
    curve's value between its neighbours."""
    count = np.bincount(levels, minlength=256).astype(np.float64)
    total = np.bincount(levels, weights=y.astype(np.float64), minlength=256)
    used = np.flatnonzero(count)
    # Pool adjacent violators: blocks of levels with their weight and mean.
    weights: list[float] = []
    means: list[float] = []
    sizes: list[int] = []
    for w, m in zip(count[used].tolist(), (total[used] / count[used]).tolist(), strict=True):
        weights.append(w)
        means.append(m)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w2, m2, n2 = weights.pop(), means.pop(), sizes.pop()
            w1, m1 = weights[-1], means[-1]
            weights[-1] = w1 + w2
            means[-1] = (w1 * m1 + w2 * m2) / (w1 + w2)
            sizes[-1] += n2
    curve = np.zeros(256, np.float64)
    curve[used] = np.repeat(means, sizes)
    if used.size < 256:
        filled = np.interp(np.arange(256), used, curve[used])
        filled[used] = curve[used]
        curve = filled
    return curve

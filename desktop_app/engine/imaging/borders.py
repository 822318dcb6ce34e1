"""Finding flat borders (black, white or any uniform colour) so they can be cut off.

pHash describes the whole frame, so a frame added around a photo moves every low
frequency and the copy no longer matches: the failure the first-generation system
documented. We cut such borders before hashing.

How, and why it is cheap. We work on the small greyscale image the hasher already has
(about 256-1000 px a side). From each edge we walk inwards one line at a time, in chunks
that double in size, and stop at the first line that is not flat; a photo without a
border costs one line per side. A line is part of a border when almost all its pixels
are within a tolerance of the border's colour (the median of the outermost line) and
its mean is very close to it: loose enough for the ringing a q=30 JPEG leaves next to
the picture (a few stray pixels per line). A naive "compare the whole image with its
corner" pass costs about a millisecond on a 750x500 draft; this costs a few microseconds
per side.

Borders are flat to the level; a photo's own smooth areas are not. Fog, a dark studio
backdrop, a clear sky: each can pass the per-line test above, yet carries grain, sensor
noise or a slow gradient. An added border is one exact colour (JPEG and WebP code a flat
block exactly; only the lines next to the picture ring). So a run of flat lines is cut
only if its typical line strays from the border colour by less than :data:`RUN_NOISE`
levels on average. Without this test the trimmer cut the misty top third of a
photograph but not of its noisy copy, and the dark backdrop of a demo photo but not of
its brightened copy, which then differed from their originals by 14 to 32 bits
(``benchmarks/quality.py``, docs/benchmarks.md). What remains: picture content that is
one exact colour at the reduced scale (a clipped sky) cannot be told from a border and is
cut, and so is a smooth area that a copy's q=30 re-save or downsizing flattened into one
colour (tests/engine/test_borders.py marks that case as a known failure); a copy with
added noise then misses an original whose flat area was cut. A stricter limit would make
that worse: re-encoding flattens faint grain, so fewer re-saved copies would be cut
like their originals.

The edge of a border rarely falls on a pixel boundary of the reduced picture, so the
first non-flat line is often a blend of border and picture; when it is, we cut it too.

Safety. A flat run reaching :data:`MAX_SIDE_SHARE` of its dimension is the picture's own
plain background (a white wall, a studio backdrop), not a border, and is kept; and if
what remains would be tiny, nothing is cut.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

GreyArray = npt.NDArray[np.uint8]

#: A pixel further than this (in 8-bit levels) from the border colour is "off".
PIXEL_TOLERANCE = 5
#: A line is flat if no more than this share of its pixels is off...
OFF_SHARE = 0.02
#: ...and its mean is within this many levels of the border colour.
MEAN_TOLERANCE = 1.5
#: A run of flat lines is a border only if its median line strays from the border
#: colour by less than this many levels on average (added borders: 0.0, up to 0.45 for
#: thin borders of q=30 files, all ringing; fog and backdrops in the benchmark's
#: photographs: 0.8 and up, measured at the hash's reduced scale).
RUN_NOISE = 0.5
#: No side gives up more than this share of its dimension.
MAX_SIDE_SHARE = 0.45
#: What must remain on each axis, as a share of it, for the trim to be applied at all.
MIN_KEPT_SHARE = 0.08
#: A line with at least this share of border colour mixed in is cut with the border.
BLEND_SHARE = 0.2
#: ...provided border and picture differ by this many levels on average.
BLEND_MIN_CONTRAST = 10.0
#: Lines examined in the first chunk after the outermost one; chunks then double.
_FIRST_CHUNK = 4


def find_content_box(pixels: GreyArray) -> tuple[int, int, int, int]:
    """The box inside any flat borders of a greyscale picture.

    Args:
        pixels: A 2-D uint8 array (rows x columns).

    Returns:
        ``(left, top, right, bottom)`` in Pillow's crop convention; the whole picture
        when there is no border or trimming would leave too little.
    """
    height, width = pixels.shape
    if height < 8 or width < 8:
        return 0, 0, width, height
    max_rows = int(height * MAX_SIDE_SHARE)
    max_cols = int(width * MAX_SIDE_SHARE)
    top = _flat_depth(pixels, max_rows)
    bottom = height - _flat_depth(pixels[::-1], max_rows)
    # Left and right are judged on the rows that remain, so that a top or bottom border
    # of another colour does not spoil the columns.
    inner = pixels[top:bottom]
    left = _flat_depth(inner.T, max_cols)
    right = width - _flat_depth(inner.T[::-1], max_cols)
    if bottom - top < max(4, height * MIN_KEPT_SHARE):
        top, bottom = 0, height
    if right - left < max(4, width * MIN_KEPT_SHARE):
        left, right = 0, width
    return left, top, right, bottom


def _flat_depth(lines: GreyArray, limit: int) -> int:
    """How many leading lines of ``lines`` (axis 0) to cut as a flat border.

    Returns 0 when the outermost line is not flat, when the flat run reaches ``limit``
    (a "border" that wide is the picture's own plain background), or when the run is
    not flat to the level (smooth picture content, see :data:`RUN_NOISE`).
    """
    first = lines[0]
    reference = float(np.median(first))
    if not _flat(first[np.newaxis, :], reference)[0]:
        return 0
    depth, chunk = 1, _FIRST_CHUNK
    while depth < limit:
        block = lines[depth : min(depth + chunk, limit)]
        flat = _flat(block, reference)
        if not flat.all():
            depth += int(np.argmin(flat))
            if not _is_border(lines, depth, reference):
                return 0
            return depth + _is_blend(lines, depth, reference)
        depth += block.shape[0]
        chunk *= 2
    return 0


def _is_border(lines: GreyArray, depth: int, reference: float) -> bool:
    """Whether the ``depth`` flat lines at the start of ``lines`` are one exact colour.

    Each line's mean absolute deviation from the border colour measures both its noise
    and any drift of its mean (a gradient); the lower median over the lines ignores the
    few ringing lines a lossy codec leaves next to the picture, even in a run of two.
    """
    run = lines[:depth].astype(np.int16)
    deviation = np.abs(run - np.int16(round(reference))).mean(axis=1)
    return float(np.sort(deviation)[(deviation.shape[0] - 1) // 2]) < RUN_NOISE


def _is_blend(lines: GreyArray, index: int, reference: float) -> bool:
    """Whether line ``index`` is a mix of the border colour and the line after it.

    At reduced scale the border's edge rarely falls between two pixels, so the first
    non-flat line is often a blend of border and picture; a bright blend above a dark
    picture moves the hash by several bits, so it goes with the border. The share of
    border colour in the line's mean decides (line means of a photo change slowly, so a
    pure picture line shows almost none).
    """
    if index + 1 >= lines.shape[0]:
        return False
    line_mean = float(lines[index].mean())
    after_mean = float(lines[index + 1].mean())
    contrast = reference - after_mean
    if abs(contrast) < BLEND_MIN_CONTRAST:
        return False
    return (line_mean - after_mean) / contrast > BLEND_SHARE


def _flat(block: GreyArray, reference: float) -> npt.NDArray[np.bool_]:
    """For each line of ``block``, whether it belongs to a border of colour ``reference``."""
    values = block.astype(np.int16)
    off = np.count_nonzero(np.abs(values - np.int16(round(reference))) > PIXEL_TOLERANCE, axis=1)
    means = values.mean(axis=1)
    allowed = block.shape[1] * OFF_SHARE
    result: npt.NDArray[np.bool_] = (off <= allowed) & (np.abs(means - reference) <= MEAN_TOLERANCE)
    return result

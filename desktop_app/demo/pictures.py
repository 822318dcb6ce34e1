"""Drawing realistic-looking photos from a seed: the pictures behind ``desktop_app.demo``.

What matters for pHash is the large-scale structure, so that is what gets the care:
a landscape (sky gradient, sun glow, hill ridges, trees and rocks with soft shadows) or
an interior still life (a lit wall, a table edge, objects with highlights and cast
shadows), then uneven light (a random low-frequency field, exposure and vignette). It is
drawn on a grid of about 320 px and enlarged, and only then gets what JPEG has to work
for: fine texture where the scene has some, and sensor-like grain everywhere. Random
choices all come from one ``numpy.random.Generator`` seeded by the caller, so a seed
gives the same pixels on every machine with the same numpy and Pillow.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from PIL import Image

log = logging.getLogger(__name__)

FloatImage = npt.NDArray[np.float32]

_SKIES = (
    ((0.25, 0.45, 0.85), (0.75, 0.85, 0.95)),
    ((0.55, 0.7, 0.9), (0.9, 0.92, 0.9)),
    ((0.35, 0.3, 0.6), (0.98, 0.6, 0.3)),
    ((0.55, 0.57, 0.6), (0.8, 0.8, 0.8)),
    ((0.1, 0.12, 0.3), (0.6, 0.35, 0.4)),
    ((0.02, 0.03, 0.1), (0.12, 0.14, 0.25)),
)
#: Ground layer colours, far to near: grass, forest, desert, snow, rock, water.
_GROUNDS = (
    ((0.45, 0.6, 0.35), (0.2, 0.4, 0.12)),
    ((0.2, 0.35, 0.25), (0.05, 0.18, 0.06)),
    ((0.85, 0.7, 0.45), (0.6, 0.4, 0.2)),
    ((0.85, 0.88, 0.95), (0.7, 0.75, 0.85)),
    ((0.5, 0.48, 0.45), (0.25, 0.23, 0.2)),
    ((0.3, 0.45, 0.55), (0.08, 0.2, 0.3)),
)
#: Interior walls and tables for the still-life scenes.
_WALLS = ((0.85, 0.8, 0.7), (0.3, 0.35, 0.4), (0.6, 0.2, 0.15), (0.95, 0.95, 0.93))
_TABLES = ((0.45, 0.3, 0.18), (0.2, 0.2, 0.22), (0.9, 0.9, 0.88), (0.55, 0.6, 0.5))

#: Long side of the grid on which the large-scale structure is drawn before upscaling.
_SCENE_SIDE = 320


def synthetic_photo(seed: int, size: tuple[int, int] = (1600, 1067)) -> Image.Image:
    """Draw a realistic-looking photo, the same for the same seed.

    Args:
        seed: Any integer; different seeds give unrelated pictures.
        size: ``(width, height)`` in pixels.

    Returns:
        An "RGB" image: a landscape or an interior still life with soft light,
        shadows, fine texture and a little sensor noise.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    scale = _SCENE_SIDE / max(width, height)
    low_w, low_h = max(2, round(width * scale)), max(2, round(height * scale))
    if rng.random() < 0.6:
        scene, texture = _landscape(rng, low_w, low_h)
    else:
        scene, texture = _still_life(rng, low_w, low_h)
    scene = _lighting(rng, scene)
    picture = np.asarray(_to_image(scene).resize(size, Image.Resampling.BICUBIC), np.int16)
    texture_map = _to_image(texture).resize(size, Image.Resampling.BILINEAR)
    # Luminance detail: texture where the scene has it (ground, tables), grain everywhere.
    detail = _texture(rng, size).astype(np.int32) * np.asarray(texture_map, np.int32)
    luma = (detail >> 8).astype(np.int16) + grain(rng, size, sigma=2.0, chroma=False)[:, :, 0]
    picture += luma[:, :, None]
    return Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")


def _grid(width: int, height: int) -> tuple[FloatImage, FloatImage]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x / max(1, width - 1), y / max(1, height - 1)


def _smoothstep(edge: float, values: FloatImage) -> FloatImage:
    """0 below ``-edge``, 1 above ``edge``, smooth between: soft silhouettes."""
    t = np.clip((values + edge) / (2 * edge), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _mix(base: FloatImage, colour: FloatImage | tuple[float, ...], alpha: FloatImage) -> FloatImage:
    return base * (1 - alpha[:, :, None]) + np.asarray(colour, np.float32) * alpha[:, :, None]


def _jitter(
    rng: np.random.Generator, colour: tuple[float, ...], amount: float = 0.08
) -> FloatImage:
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 1)


def _landscape(rng: np.random.Generator, width: int, height: int) -> tuple[FloatImage, FloatImage]:
    """Sky, sun, hill ridges, trees or rocks: returns (RGB 0..1, texture strength 0..1)."""
    x, y = _grid(width, height)
    top, horizon_colour = _SKIES[rng.integers(len(_SKIES))]
    horizon = rng.uniform(0.25, 0.75)
    tilt = rng.uniform(-0.15, 0.15)
    sky_t = np.clip(y / max(horizon, 0.05), 0, 1) ** rng.uniform(0.6, 1.6)
    image = _mix(
        np.broadcast_to(_jitter(rng, top), (height, width, 3)).astype(np.float32),
        _jitter(rng, horizon_colour),
        sky_t,
    )
    # A sun or moon with a glow, somewhere in the sky.
    if rng.random() < 0.6:
        sx, sy = rng.uniform(0.1, 0.9), rng.uniform(0.05, horizon * 0.8)
        dist = np.hypot((x - sx) * width / height, y - sy)
        radius = rng.uniform(0.02, 0.06)
        glow = np.exp(-((dist / (radius * 6)) ** 2)) * 0.35 + _smoothstep(0.01, radius - dist)
        image = _mix(image, (1.0, 0.95, 0.8), np.clip(glow, 0, 1))
    texture = np.full((height, width), 0.15, np.float32)
    far, near = _GROUNDS[rng.integers(len(_GROUNDS))]
    layers = int(rng.integers(2, 5))
    for layer in range(layers):
        depth = layer / max(1, layers - 1)
        ridge = horizon + tilt * (x[0] - 0.5) + depth * rng.uniform(0.05, 0.2)
        for _ in range(3):
            freq, phase = rng.uniform(1, 8), rng.uniform(0, 2 * np.pi)
            ridge = ridge + rng.uniform(0.01, 0.08) / (1 + depth) * np.sin(
                freq * np.pi * x[0] + phase
            )
        mask = _smoothstep(0.004, y - ridge[None, :])
        colour = _jitter(rng, tuple(np.asarray(far) * (1 - depth) + np.asarray(near) * depth))
        shade = 1.0 - 0.35 * np.clip((y - ridge[None, :]) * 3, 0, 1)  # darker downhill
        image = _mix(image, colour[None, None, :] * shade[:, :, None], mask)
        texture = np.maximum(texture, mask * (0.5 + 0.5 * depth))
    for _ in range(int(rng.integers(0, 6))):  # trees and rocks, with soft shadows
        cx, cy = rng.uniform(0, 1), rng.uniform(horizon, 1.0)
        rx, ry = rng.uniform(0.02, 0.12), rng.uniform(0.03, 0.2)
        shadow = _ellipse(x - 0.03, y - 0.01, cx, cy + ry * 0.6, rx * 1.3, ry * 0.4, 0.03)
        image = image * (1 - 0.4 * shadow[:, :, None])
        blob = _ellipse(x, y, cx, cy, rx, ry, 0.006)
        image = _mix(image, _jitter(rng, (0.2, 0.25, 0.15), 0.15), blob)
        texture = np.maximum(texture, blob)
    return image, texture


def _still_life(rng: np.random.Generator, width: int, height: int) -> tuple[FloatImage, FloatImage]:
    """A wall, a table edge and a few lit objects with cast shadows."""
    x, y = _grid(width, height)
    wall = _jitter(rng, _WALLS[rng.integers(len(_WALLS))], 0.1)
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.75 + 0.5 * (np.cos(angle) * (x - 0.5) + np.sin(angle) * (y - 0.5))
    image = wall[None, None, :] * light[:, :, None]
    table_y = rng.uniform(0.45, 0.85)
    table = _smoothstep(0.005, y - table_y - 0.05 * (x - 0.5) * rng.uniform(-1, 1))
    image = _mix(image, _jitter(rng, _TABLES[rng.integers(len(_TABLES))], 0.1), table)
    texture = 0.2 + 0.6 * table
    shadow_dx, shadow_dy = rng.uniform(-0.08, 0.08), rng.uniform(0.0, 0.05)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = rng.uniform(0.1, 0.9), rng.uniform(0.2, table_y + 0.1)
        rx, ry = rng.uniform(0.04, 0.18), rng.uniform(0.05, 0.25)
        shadow = _ellipse(x, y, cx + shadow_dx, cy + shadow_dy + ry * 0.3, rx * 1.1, ry, 0.05)
        image = image * (1 - 0.45 * shadow[:, :, None])
        colour = rng.uniform(0.05, 0.95, 3).astype(np.float32)
        if rng.random() < 0.5:
            body = _ellipse(x, y, cx, cy, rx, ry, 0.005)
        else:
            body = _smoothstep(0.004, np.minimum(rx - np.abs(x - cx), ry - np.abs(y - cy)))
        # A highlight on the side the light comes from makes the objects look round.
        gloss = 1.0 + 0.4 * np.clip(
            -(np.cos(angle) * (x - cx) + np.sin(angle) * (y - cy)) / rx, -1, 1
        )
        image = _mix(image, colour[None, None, :] * gloss[:, :, None], body)
        texture = np.maximum(texture, body * 0.5)
    return image.astype(np.float32), texture.astype(np.float32)


def _ellipse(
    x: FloatImage, y: FloatImage, cx: float, cy: float, rx: float, ry: float, edge: float
) -> FloatImage:
    return _smoothstep(edge, 1.0 - np.hypot((x - cx) / rx, (y - cy) / ry))


def _lighting(rng: np.random.Generator, image: FloatImage) -> FloatImage:
    """Uneven light: a broad random low-frequency field, an exposure shift and a vignette."""
    height, width = image.shape[:2]
    x, y = _grid(width, height)
    field = np.ones((height, width), np.float32)
    for _ in range(4):
        fx, fy = rng.uniform(0.3, 2.5, 2)
        field += rng.uniform(0.04, 0.14) * np.cos(
            np.pi * (fx * x + fy * y * rng.choice([-1, 1])) + rng.uniform(0, 2 * np.pi)
        )
    vignette = 1.0 - rng.uniform(0.1, 0.35) * ((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2
    exposure = rng.uniform(0.8, 1.15)
    return np.clip(image * (field * vignette * exposure)[:, :, None], 0, 1).astype(np.float32)


def _to_image(values: FloatImage) -> Image.Image:
    """0..1 floats (H x W or H x W x 3) as an 8-bit Pillow image."""
    data = np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(data, "RGB" if data.ndim == 3 else "L")


def _texture(rng: np.random.Generator, size: tuple[int, int]) -> npt.NDArray[np.int16]:
    """Fine luminance texture (foliage, grain of wood), +-18 levels: noise at 1/3 scale."""
    width, height = size
    small = rng.integers(0, 256, (max(2, height // 3), max(2, width // 3)), dtype=np.uint8)
    up = Image.fromarray(small, "L").resize(size, Image.Resampling.BILINEAR)
    return ((np.asarray(up, np.int16) - 128) * 18) // 128


def grain(
    rng: np.random.Generator, size: tuple[int, int], sigma: float, chroma: bool = True
) -> npt.NDArray[np.int16]:
    """Sensor-like noise in levels, H x W x (3 or 1): mostly luminance, some chroma.

    Drawn on a 512 px tile and repeated: the eye and JPEG cannot tell, and a 24 MP
    picture then costs milliseconds rather than a second of random numbers.
    """
    width, height = size
    tile_h, tile_w = min(height, 512), min(width, 512)
    tile = rng.standard_normal((tile_h, tile_w, 1), dtype=np.float32)
    if chroma:
        tile = tile + rng.standard_normal((tile_h, tile_w, 3), dtype=np.float32) * 0.5
    tile_levels = np.round(tile * np.float32(sigma)).astype(np.int16)
    reps = (-(-height // tile_h), -(-width // tile_w), 1)
    return np.tile(tile_levels, reps)[:height, :width]

"""A sample picture the project makes itself (no data-set images are shipped).

``sample.png`` (next to this file) is what the README's first command
upscales.  It is synthesised by :func:`make_sample`: a landscape with a sky
gradient, a sun, fractal mountains, a house with windows and a fence (hard
edges at many angles), fine stripes, a zone plate and text, all from fixed
seeds.  Regenerate it with::

    python -m superres.assets            # writes src/superres/assets/sample.png
    python -m superres.assets out.png --size 320x240
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors

__all__ = ["SAMPLE_PATH", "make_sample", "sample_path"]

SAMPLE_PATH = Path(__file__).with_name("sample.png")


def sample_path() -> Path:
    """Path of the shipped ``sample.png``."""
    return SAMPLE_PATH


def _fractal_profile(width: int, rng: np.random.Generator, octaves: int = 6) -> np.ndarray:
    x = np.linspace(0, 1, width)
    y = np.zeros(width)
    for o in range(octaves):
        freq = 2 ** (o + 1)
        phase = rng.uniform(0, 2 * math.pi)
        y += np.sin(2 * math.pi * freq * x + phase) / freq
    return y


def make_sample(width: int = 256, height: int = 192, *, seed: int = 1998) -> np.ndarray:
    """Synthesise the sample picture: ``(height, width, 3)`` uint8 RGB.

    Deterministic for given arguments (up to Pillow's text rendering).
    """
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    # sky: vertical gradient, a sun with a soft halo
    t = yy / height
    sky = np.stack([90 + 120 * t, 140 + 90 * t, 230 - 20 * t], axis=-1)
    sun_r = np.hypot(xx - 0.78 * width, yy - 0.2 * height)
    halo = np.clip(1 - sun_r / (0.18 * height), 0, 1)[..., None] ** 2
    sky = sky * (1 - halo) + np.array([255, 236, 170]) * halo
    sun = (sun_r < 0.07 * height)[..., None]
    img = np.where(sun, np.array([255, 250, 215]), sky)
    # mountains: two fractal ridges with texture
    for level, colour, amp in ((0.45, (96, 110, 140), 0.16), (0.58, (62, 98, 70), 0.12)):
        ridge = (level + amp * _fractal_profile(width, rng)) * height
        texture = rng.normal(0, 9, size=(height, width, 1))
        shade = (yy - ridge[None, :]) / height
        mountain = np.array(colour) * (1 - 0.6 * shade[..., None]) + texture
        img = np.where((yy > ridge[None, :])[..., None], mountain, img)
    # meadow with grass stripes
    ground = 0.78 * height
    stripes = 12 * np.sin(2 * math.pi * (xx + 0.5 * yy) / 5.0)
    meadow = np.stack([70 + stripes, 140 + stripes, 60 + 0 * stripes], -1) + rng.normal(0, 6, (height, width, 1))
    img = np.where((yy > ground)[..., None], meadow, img)
    image = Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    # house: walls, roof, door, windows with bars, a fence
    hx, hy, hw, hh = int(0.12 * width), int(0.55 * height), int(0.3 * width), int(0.27 * height)
    draw.rectangle([hx, hy, hx + hw, hy + hh], fill=(214, 196, 160), outline=(60, 40, 30))
    draw.polygon([(hx - 6, hy), (hx + hw // 2, hy - int(0.16 * height)), (hx + hw + 6, hy)], fill=(160, 50, 40),
                 outline=(80, 20, 20))
    for i in range(9):  # roof tiles
        y = hy - int(0.16 * height) + i * int(0.16 * height) // 9
        draw.line([(hx - 6, hy - 1), (hx + hw // 2, y)], fill=(120, 35, 30))
    dw = hw // 6
    draw.rectangle([hx + hw // 2 - dw // 2, hy + hh // 3, hx + hw // 2 + dw // 2, hy + hh], fill=(90, 55, 35))
    for wx in (hx + hw // 8, hx + hw - hw // 8 - dw):
        draw.rectangle([wx, hy + hh // 4, wx + dw, hy + hh // 4 + dw], fill=(180, 220, 250), outline=(40, 40, 40))
        draw.line([(wx + dw // 2, hy + hh // 4), (wx + dw // 2, hy + hh // 4 + dw)], fill=(40, 40, 40))
        draw.line([(wx, hy + hh // 4 + dw // 2), (wx + dw, hy + hh // 4 + dw // 2)], fill=(40, 40, 40))
    fy = int(0.86 * height)
    for fx in range(0, width, 7):
        draw.line([(fx, fy), (fx, fy + int(0.08 * height))], fill=(240, 240, 235), width=2)
    draw.line([(0, fy + 4), (width, fy + 4)], fill=(240, 240, 235), width=2)
    # text and a zone plate in the corner
    font = ImageFont.load_default()
    draw.text((int(0.5 * width), int(0.66 * height)), "superres", fill=(20, 20, 20), font=font)
    pixels = np.asarray(image).copy()
    size = max(8, int(0.16 * height))
    zy, zx = np.mgrid[0:size, 0:size].astype(np.float64)
    r2 = (zx - size / 2) ** 2 + (zy - size / 2) ** 2
    zone = 127.5 + 127.5 * np.cos(math.pi * r2 / (1.2 * size))
    y0, x0 = 4, 4
    pixels[y0 : y0 + size, x0 : x0 + size] = np.clip(np.round(zone), 0, 255).astype(np.uint8)[..., None]
    return pixels


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.assets [OUTPUT] [--size WxH] [--seed N]``: write the sample picture; returns the exit status."""
    parser = OneLineParser(prog="python -m superres.assets", description="Write the synthetic sample picture.")
    parser.add_argument("output", nargs="?", default=str(SAMPLE_PATH), help=f"PNG to write (default: {SAMPLE_PATH})")
    parser.add_argument("--size", default="256x192", help="WIDTHxHEIGHT (default 256x192)")
    parser.add_argument("--seed", type=int, default=1998)
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise InvalidArgumentError(f"--size takes WIDTHxHEIGHT, e.g. 256x192, got {args.size!r}") from None
    if width < 1 or height < 1:
        raise InvalidArgumentError(f"--size needs a width and a height of at least 1, got {args.size!r}")
    from superres.io import write_image

    write_image(args.output, make_sample(width, height, seed=args.seed), overwrite=True)
    print(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

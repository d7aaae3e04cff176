"""``superres resize IN OUT --scale S``: MATLAB-exact resize of one image file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and torch load on first use: `superres --help` stays fast
    import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resize", help="resize an image exactly as MATLAB imresize")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", "-s", type=float, help="factor, e.g. 0.5 or 3 (output = ceil(scale * size))")
    size.add_argument("--size", metavar="HxW", help="output size, e.g. 480x640")
    p.add_argument("--kernel", "-k", default="bicubic", choices=["bicubic", "bilinear", "nearest", "box", "triangle", "lanczos2", "lanczos3"])
    p.add_argument("--no-antialias", action="store_true", help="do not widen the kernel when shrinking")
    p.add_argument("--border", choices=["replicate", "symmetric"], default="replicate",
                   help="replicate: MATLAB of the classic benchmarks (default); symmetric: current MATLAB")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    from superres.errors import InvalidArgumentError

    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidArgumentError(f"--size must look like 480x640, got {text!r}") from None
    return h, w


def resize_pixels(pixels: np.ndarray, *, scale: float | None = None, size: tuple[int, int] | None = None,
                  kernel: str = "bicubic", antialias: bool | None = None, border: str = "replicate") -> np.ndarray:
    """Resize an ``(H, W, C)`` uint8/uint16 array; uint8 follows MATLAB's uint8 arithmetic exactly."""
    import numpy as np
    import torch

    from superres.ops.resize import imresize_matlab

    if pixels.dtype == np.uint8:
        x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]
        y = imresize_matlab(x, scale, size=size, kernel=kernel, antialias=antialias, border=border)
        return y[0].permute(1, 2, 0).numpy()
    # 16-bit: float arithmetic, MATLAB rounding to uint16 at the end
    x = torch.from_numpy(pixels.astype(np.float64)).permute(2, 0, 1)[None]
    y = imresize_matlab(x, scale, size=size, kernel=kernel, antialias=antialias, border=border)
    return np.clip(np.floor(y[0].permute(1, 2, 0).numpy() + 0.5), 0, 65535).astype(np.uint16)


def run(args: argparse.Namespace) -> int:
    from superres.io import read_image, write_image

    image = read_image(args.input)
    size = parse_size(args.size) if args.size else None
    out = resize_pixels(
        image.pixels,
        scale=args.scale,
        size=size,
        kernel=args.kernel,
        antialias=False if args.no_antialias else None,
        border=args.border,
    )
    write_image(args.output, out, icc_profile=image.icc_profile, exif=image.exif, overwrite=args.overwrite)
    print(f"{args.input} {image.height}x{image.width} -> {args.output} {out.shape[0]}x{out.shape[1]}")
    return 0

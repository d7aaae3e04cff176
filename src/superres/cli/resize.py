"""``superres resize IN OUT --scale S``: MATLAB-exact resize of one image file."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from superres.cli.common import check_image_output, memory_size

if TYPE_CHECKING:  # numpy and torch load on first use: `superres --help` stays fast
    import numpy as np


def _factor(text: str) -> float:
    """A resize factor: a positive, finite number (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: must be a positive number")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resize", help="resize an image exactly as MATLAB imresize")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", "-s", type=_factor, help="factor, e.g. 0.5 or 3 (output = ceil(scale * size))")
    size.add_argument("--size", metavar="HxW", help="output size, e.g. 480x640")
    p.add_argument("--kernel", "-k", default="bicubic", choices=["bicubic", "bilinear", "nearest", "box", "triangle", "lanczos2", "lanczos3"])
    p.add_argument("--no-antialias", action="store_true", help="do not widen the kernel when shrinking")
    p.add_argument("--border", choices=["replicate", "symmetric"], default="replicate",
                   help="replicate: MATLAB of the classic benchmarks (default); symmetric: current MATLAB")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT (never the input)")
    p.add_argument("--max-memory", type=memory_size, metavar="SIZE",
                   help="memory budget of the resize, e.g. 4G (default: half the RAM, at most 8G)")
    p.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    """``(height, width)`` of a ``--size`` such as ``480x640``; raises ``InvalidArgumentError`` otherwise."""
    from superres.errors import InvalidArgumentError

    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidArgumentError(f"--size must look like 480x640, got {text!r}") from None
    if h < 1 or w < 1:
        raise InvalidArgumentError(f"--size must be positive, got {text!r}")
    return h, w


def check_resize_size(height: int, width: int, channels: int, itemsize: int, out_h: int, out_w: int,
                      *, max_memory: int | None = None, what: str = "the image", kernel: str = "bicubic",
                      scale: float | None = None) -> None:
    """Refuse a resize whose output is above the pixel limit of the image reader (env
    ``SUPERRES_MAX_PIXELS``) or whose arithmetic would not fit in ``max_memory`` (default: as
    ``superres upscale``, half the RAM, at most 8 GiB), before allocating anything."""
    from superres.errors import InvalidArgumentError
    from superres.inference.device import default_max_memory, format_bytes
    from superres.inference.pipeline import OUTPUT_COPIES
    from superres.io.image import MAX_PIXELS_ENV, resolve_max_pixels

    limit = resolve_max_pixels()
    if out_h * out_w > limit:
        raise InvalidArgumentError(
            f"resizing {what} ({width}x{height}) to {out_w}x{out_h} gives {out_h * out_w} pixels, above the limit "
            f"of {limit} pixels (raise it with {MAX_PIXELS_ENV})"
        )
    # the resize's arithmetic (8-bit: float32 or float64 by kernel and factor, 16-bit: float64):
    # the input copy, the first pass and its padded copy, the second pass and its interleaved
    # copy, then the output and the writer's copies of it.
    from superres.ops.resize import resize_taps, uint8_compute_dtype

    compute = uint8_compute_dtype(kernel, out_h / height, out_w / width).itemsize if itemsize == 1 else 8
    between = max(height, out_h) * max(width, out_w)
    need = channels * (height * width * compute + 2 * between * compute + 2 * out_h * out_w * compute
                       + out_h * out_w * itemsize * (1 + OUTPUT_COPIES))
    # each axis's plan (out_length x taps weights, indices and their float64 temporaries) and
    # the taps it gathers from the other axis's lines: a tiny factor's antialiased kernel
    # reads the whole side many times over (``scale`` as given, which the plan uses: 1e-9 of
    # 53 pixels is one sample of 4e9 taps)
    taps_h, taps_w = (resize_taps(scale or n_out / n_in, kernel) for n_in, n_out in ((height, out_h), (width, out_w)))
    need += 40 * (out_h * taps_h + out_w * taps_w) + channels * 8 * (taps_h * width + taps_w * max(height, out_h))
    budget = default_max_memory() if max_memory is None else int(max_memory)
    if need > budget:
        raise InvalidArgumentError(
            f"resizing {what} ({width}x{height}) to {out_w}x{out_h} needs about {format_bytes(need)}, more than "
            f"the memory budget of {format_bytes(budget)} (raise --max-memory)"
        )


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
    from superres.io import check_output_dimensions, read_image, write_image
    from superres.ops.resize import output_size_for_scale

    # everything that can be said about the output is said before the input is even read
    size = parse_size(args.size) if args.size else None
    check_image_output(args.output, [args.input], overwrite=args.overwrite)
    image = read_image(args.input)
    height, width, channels = image.pixels.shape
    if size is not None:
        out_h, out_w = size
    else:
        out_h, out_w = output_size_for_scale(height, args.scale), output_size_for_scale(width, args.scale)
    check_resize_size(height, width, channels, image.pixels.itemsize, out_h, out_w,
                      max_memory=args.max_memory, what=repr(str(args.input)), kernel=args.kernel,
                      scale=None if size is not None else args.scale)
    check_output_dimensions(args.output, out_w, out_h)
    out = resize_pixels(
        image.pixels,
        scale=args.scale,
        size=size,
        kernel=args.kernel,
        antialias=False if args.no_antialias else None,
        border=args.border,
    )
    write_image(args.output, out, icc_profile=image.icc_profile, exif=image.exif, overwrite=args.overwrite)
    print(f"{args.input} {image.width}x{image.height} -> {args.output} {out.shape[1]}x{out.shape[0]} (width x height)")
    return 0

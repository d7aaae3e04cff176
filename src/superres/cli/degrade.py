"""``superres degrade HR_DIR LR_DIR --scale S``: make an LR test set the standard way.

Every image is modcropped to a multiple of the scale, then downscaled with
MATLAB ``imresize(hr, 1/s, 'bicubic')`` (replicated borders, uint8 rounding
between passes), which reproduces the published LR sets pixel for pixel.
With ``--hr-out`` the modcropped HR images are written too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from superres.cli.common import parse_scale


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("degrade", help="modcrop + MATLAB bicubic downscale of a folder of HR images")
    p.add_argument("hr_dir", type=Path)
    p.add_argument("lr_dir", type=Path)
    p.add_argument("--scale", "-s", type=parse_scale, required=True)
    p.add_argument("--degradation", default="bicubic", choices=["bicubic", "gaussian"])
    p.add_argument("--border", choices=["replicate", "symmetric"], default="replicate")
    p.add_argument("--hr-out", type=Path, help="also write the modcropped HR images here")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from superres.data.datasets import list_image_files
    from superres.degradation.pipelines import bicubic_downscale, get_degradation, modcrop_to_scale
    from superres.errors import DataNotFoundError
    from superres.io import read_image, write_image

    if not args.hr_dir.is_dir():
        raise DataNotFoundError(f"{str(args.hr_dir)!r} is not a folder")
    files = list_image_files(args.hr_dir)
    if not files:
        raise DataNotFoundError(f"no images in {str(args.hr_dir)!r}")
    args.lr_dir.mkdir(parents=True, exist_ok=True)
    if args.hr_out:
        args.hr_out.mkdir(parents=True, exist_ok=True)
    for path in files:
        image = read_image(path)
        pixels = image.pixels
        if pixels.dtype != np.uint8:
            pixels = np.clip(np.floor(pixels / 257 + 0.5), 0, 255).astype(np.uint8)
        hr = modcrop_to_scale(torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None], args.scale)
        if args.degradation == "bicubic":
            lr = bicubic_downscale(hr, args.scale, border=args.border)
        else:
            lr = get_degradation(args.degradation)(hr, args.scale)
        name = path.with_suffix(".png").name
        write_image(args.lr_dir / name, lr[0].permute(1, 2, 0).numpy(), overwrite=args.overwrite)
        if args.hr_out:
            write_image(args.hr_out / name, hr[0].permute(1, 2, 0).numpy(), overwrite=args.overwrite)
    print(f"{len(files)} images -> {args.lr_dir} (x{args.scale:g}, {args.degradation})")
    return 0

"""``superres degrade HR_DIR LR_DIR --scale S``: make an LR test set the standard way.

Every image is modcropped to a multiple of the scale, then downscaled with
MATLAB ``imresize(hr, 1/s, 'bicubic')`` (replicated borders, uint8 rounding
between passes), which reproduces the published LR sets pixel for pixel.
With ``--hr-out`` the modcropped HR images are written too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from superres.cli.common import parse_scale


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("degrade", help="modcrop + MATLAB bicubic downscale of a folder of HR images",
                       description="Make an LR test set the standard way: every image of HR_DIR is cropped to a "
                                   "multiple of the scale (modcrop) and downscaled with MATLAB imresize(hr, 1/s, "
                                   "'bicubic'), which reproduces the published LR sets pixel for pixel. Outputs "
                                   "are 8-bit PNGs (16-bit images are reduced to 8 bits first); "
                                   "everything is checked before the first file is written.")
    p.add_argument("hr_dir", type=Path, metavar="HR_DIR", help="folder of HR images")
    p.add_argument("lr_dir", type=Path, metavar="LR_DIR", help="folder for the LR images (created if missing), "
                   "NAME.png for each HR image NAME")
    p.add_argument("--scale", "-s", type=parse_scale, required=True, help="downscaling factor, e.g. 2, 3, 4 or 2.5")
    p.add_argument("--degradation", default="bicubic", choices=["bicubic", "gaussian"],
                   help="bicubic: MATLAB imresize (default, the protocol); gaussian: Gaussian blur then "
                        "subsampling (integer scales)")
    p.add_argument("--border", choices=["replicate", "symmetric"], default="replicate",
                   help="bicubic's image border: replicate (MATLAB imresize, default) or symmetric")
    p.add_argument("--hr-out", type=Path, help="also write the modcropped HR images here")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (default: refuse)")
    p.set_defaults(run=run)


def _check_folder(folder: Path, hr_dir: Path, option: str) -> None:
    """Refuse an output folder that is a file or the HR folder itself, before anything is written."""
    from superres.errors import ImageWriteError, InvalidArgumentError
    from superres.io.atomic import is_same_file

    if folder.exists() and not folder.is_dir():
        raise InvalidArgumentError(f"{option} {str(folder)!r} exists and is not a folder")
    if is_same_file(folder, hr_dir):
        raise ImageWriteError(f"{option} {str(folder)!r} is the HR folder: its images would be replaced; "
                              f"give another folder")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from superres.data.datasets import list_image_files, modcrop_multiple
    from superres.degradation.pipelines import bicubic_downscale, get_degradation, modcrop_to_scale
    from superres.errors import DataNotFoundError, ImageWriteError, InvalidArgumentError
    from superres.io import MAX_PIXELS_ENV, read_image, read_image_size, resolve_max_pixels, to_uint8, write_image
    from superres.io.atomic import is_same_file, refuse_to_replace_inputs

    if not args.hr_dir.is_dir():
        raise DataNotFoundError(f"{str(args.hr_dir)!r} is not a folder")
    # Everything is checked before the first file is written: a run either does the whole
    # folder or refuses with one line, leaving nothing half-done.
    _check_folder(args.lr_dir, args.hr_dir, "LR_DIR")
    if args.hr_out:
        _check_folder(args.hr_out, args.hr_dir, "--hr-out")
        if is_same_file(args.hr_out, args.lr_dir):
            raise InvalidArgumentError(f"--hr-out {str(args.hr_out)!r} is the LR folder: the HR and LR images "
                                       f"would have the same names; give another folder")
    multiple = modcrop_multiple(args.scale)  # refuses a scale that is not a simple fraction
    max_pixels = resolve_max_pixels()  # read_image would refuse a larger file, but only in the write loop
    degrade = bicubic_downscale if args.degradation == "bicubic" else get_degradation(args.degradation)
    if args.degradation == "gaussian" and not float(args.scale).is_integer():
        raise InvalidArgumentError(f"--degradation gaussian needs an integer scale, got {args.scale:g}")
    files = list_image_files(args.hr_dir)
    if not files:
        raise DataNotFoundError(f"no images in {str(args.hr_dir)!r}")
    names: dict[str, Path] = {}
    for path in files:
        name = path.with_suffix(".png").name
        if name in names:
            raise InvalidArgumentError(f"{str(names[name])!r} and {str(path)!r} would both be written as "
                                       f"{name!r}; move or rename one")
        names[name] = path
        height, width = read_image_size(path)
        if height * width > max_pixels:
            raise InvalidArgumentError(f"{str(path)!r} is {width}x{height}, above the limit of {max_pixels} pixels "
                                       f"(raise it with {MAX_PIXELS_ENV})")
        if min(height, width) < multiple:
            raise InvalidArgumentError(f"{str(path)!r} is {width}x{height}: too small for x{args.scale:g} "
                                       f"(each side needs at least {multiple} pixels)")
    targets = [args.lr_dir] + ([args.hr_out] if args.hr_out else [])
    for folder in targets:
        for name, path in names.items():
            target = folder / name
            refuse_to_replace_inputs(target, [path])
            if target.is_dir():
                raise ImageWriteError(f"cannot write {str(target)!r}: is a directory")
            if not args.overwrite and (target.exists() or target.is_symlink()):
                raise ImageWriteError(f"{str(target)!r} exists (use --overwrite)")
    for folder in targets:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ImageWriteError(f"cannot create {str(folder)!r}: {exc.strerror or exc}") from None
    # A file that fails to decode past its header is found only in this loop: the files this
    # run created are then removed, so a failed run leaves no half-made set behind.
    created = [folder / name for folder in targets for name in names if not (folder / name).exists()]
    try:
        for name, path in names.items():
            pixels = read_image(path).pixels
            if pixels.dtype != np.uint8:
                print(f"note: {str(path)!r} is 16-bit: reduced to 8 bits first (the protocol's images are 8-bit)",
                      file=sys.stderr)
                pixels = to_uint8(pixels)
            hr = modcrop_to_scale(torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None], args.scale)
            if args.degradation == "bicubic":
                lr = degrade(hr, args.scale, border=args.border)
            else:
                lr = degrade(hr, args.scale)
            write_image(args.lr_dir / name, lr[0].permute(1, 2, 0).numpy(), overwrite=args.overwrite)
            if args.hr_out:
                write_image(args.hr_out / name, hr[0].permute(1, 2, 0).numpy(), overwrite=args.overwrite)
    except BaseException:
        for target in created:
            target.unlink(missing_ok=True)
        raise
    print(f"{len(files)} images -> {args.lr_dir} (x{args.scale:g}, {args.degradation})")
    return 0

"""``superres compare``: the papers' visual comparison, a labelled grid of crops.

The given image is the ground truth (HR).  It is cropped so that its size is
a multiple of the scale, its LR version is made with the project's
degradation (MATLAB bicubic downscale, uint8 as in the papers), every method
upscales the LR image, and the grid shows the same crop of the original and
of every result, each labelled with the method and its PSNR/SSIM against
the original under the protocol (Y channel, ``ceil(scale)`` pixels shaved,
whole image).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from superres.cli.common import check_image_output, parse_list, parse_scale, positive_int
from superres.errors import InvalidArgumentError

#: displayed side (pixels) a crop is magnified towards, by an integer nearest-neighbour zoom
PANEL_TARGET = 240


def _crop_arg(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid crop {text!r}: use X,Y,W,H in pixels") from None
    if len(values) != 4 or values[0] < 0 or values[1] < 0 or values[2] < 1 or values[3] < 1:
        raise argparse.ArgumentTypeError(f"invalid crop {text!r}: use X,Y,W,H (X, Y >= 0; W, H >= 1)")
    return values  # type: ignore[return-value]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="render a labelled grid of crops of several methods' results, with PSNR/SSIM",
        description="Treat IMAGE as the original, make its LR version by MATLAB bicubic downscaling, upscale it "
        "with each method and write a grid of the same crop of each result, labelled with PSNR/SSIM "
        "(Y channel, whole image, scale pixels shaved) against the original.",
    )
    p.add_argument("image", metavar="IMAGE", help="the original (ground-truth) image")
    p.add_argument("--methods", "-m", type=parse_list, default=["bicubic"], help="comma-separated method names")
    p.add_argument("--scale", "-s", type=parse_scale, default=3.0, help="scale factor (default 3)")
    p.add_argument("--crop", type=_crop_arg, metavar="X,Y,W,H",
                   help="region of the original to show (default: a centred square of up to 96 pixels)")
    p.add_argument("--zoom", type=positive_int, help=f"integer magnification of the crops (default: towards {PANEL_TARGET} px)")
    p.add_argument("--columns", type=positive_int, help="panels per row (default: up to 4)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="grid image to write (PNG recommended)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    p.set_defaults(run=run)


def _default_crop(height: int, width: int) -> tuple[int, int, int, int]:
    side = min(96, height, width)
    return (width - side) // 2, (height - side) // 2, side, side


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale
    from superres.evaluation.metrics import protocol_metrics, quantize_uint8
    from superres.inference import prepare_method, upscale_tensor
    from superres.methods.registry import method_label, split_method_spec
    from superres.io import read_image, to_uint8, write_image

    target = Path(args.output)
    # the grid never replaces the original, --overwrite or not; all refused before any work
    check_image_output(target, [Path(args.image)], overwrite=args.overwrite, what="the grid")
    scale = args.scale
    methods = [prepare_method(name, scale, device="auto") for name in args.methods]
    loaded = read_image(args.image)
    pixels = loaded.pixels
    pixels = to_uint8(pixels)  # the protocol is 8-bit
    if pixels.shape[2] in (2, 4):
        pixels = pixels[:, :, :-1]
    hr = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]
    hr = modcrop_to_scale(hr, scale)
    h, w = hr.shape[-2:]
    if min(h, w) < max(16, 2 * math.ceil(scale) + 11):
        raise InvalidArgumentError(f"{args.image!r} is too small ({w}x{h}) to compare at x{scale:g}")
    lr = bicubic_downscale(hr, scale)
    x, y, cw, ch = args.crop if args.crop else _default_crop(h, w)
    if x + cw > w or y + ch > h:
        raise InvalidArgumentError(f"crop {x},{y},{cw},{ch} does not fit in the {w}x{h} image (after cropping to a multiple of the scale)")
    _panel_zoom(args.zoom, ch, cw)  # a zoom too large for the crop, said before the upscaling

    panels: list[tuple[str, str, np.ndarray]] = [("original", f"{w}x{h}, x{scale:g}", hr[0, :, y:y + ch, x:x + cw])]
    # `default` shows the method it resolved to; NAME=FILE the run its weights come from
    labels = [method_label(name) if split_method_spec(name)[1] else method.info.name
              for name, method in zip(args.methods, methods)]
    width = max(12, *(len(label) for label in labels))
    print(f"{'method':<{width}} {'PSNR':>7} {'SSIM':>7}   (Y, shave {math.ceil(scale)}, whole image)")
    for label, method in zip(labels, methods):
        if sys.stderr.isatty():
            print(f"{label:<{width}} ...", end="\r", file=sys.stderr, flush=True)
        sr = upscale_tensor(lr.float() / 255, method, scale, from_uint8=True)
        sr8 = quantize_uint8(sr)  # as evaluate scores it (a NaN output is refused, not scored as black)
        p, s = protocol_metrics(sr8, hr, shave=math.ceil(scale))
        print(f"{label:<{width}} {p.item():7.2f} {s.item():7.4f}")
        panels.append((label, f"{p.item():.2f} dB / {s.item():.4f}", sr8[0, :, y:y + ch, x:x + cw]))

    grid = _render(panels, zoom=args.zoom, columns=args.columns)
    write_image(target, grid, icc_profile=loaded.icc_profile, overwrite=args.overwrite)
    print(f"wrote {target} ({len(panels)} panels, crop {x},{y},{cw},{ch})")
    return 0


def _panel_zoom(zoom: int | None, ch: int, cw: int) -> int:
    """The crops' magnification: ``zoom``, or towards :data:`PANEL_TARGET` pixels; panels stay within 4096."""
    zoom = zoom or max(1, PANEL_TARGET // max(ch, cw))
    if zoom < 1 or zoom * max(ch, cw) > 4096:
        raise InvalidArgumentError(f"zoom {zoom} gives panels over 4096 pixels")
    return zoom


def _render(panels, *, zoom: int | None, columns: int | None):
    """A white grid of the crops (nearest-zoomed) with a label under each."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    first = panels[0][2]
    ch, cw = first.shape[-2:]
    zoom = _panel_zoom(zoom, ch, cw)
    font = ImageFont.load_default()
    pad, label_h = 8, 34
    pw, ph = cw * zoom, ch * zoom
    columns = max(1, min(columns or 4, len(panels)))
    rows = -(-len(panels) // columns)
    width = columns * pw + (columns + 1) * pad
    height = rows * (ph + label_h) + (rows + 1) * pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, (title, subtitle, crop) in enumerate(panels):
        r, c = divmod(i, columns)
        x0 = pad + c * (pw + pad)
        y0 = pad + r * (ph + label_h + pad)
        arr = crop.permute(1, 2, 0).numpy()
        if arr.shape[2] == 1:
            arr = arr.repeat(3, axis=2)
        tile = Image.fromarray(np.ascontiguousarray(arr)).resize((pw, ph), Image.Resampling.NEAREST)
        canvas.paste(tile, (x0, y0))
        draw.text((x0 + 2, y0 + ph + 3), title, fill=(0, 0, 0), font=font)
        draw.text((x0 + 2, y0 + ph + 18), subtitle, fill=(70, 70, 70), font=font)
    return np.asarray(canvas)

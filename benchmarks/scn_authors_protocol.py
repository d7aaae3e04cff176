"""Score a Y-channel network under the SCN authors' own test code, beside our two LR modes.

    python benchmarks/scn_authors_protocol.py [--method cscn] [--sets Set5,Set14,BSD100] [--scales 2,3,4]

The SCN authors' released Python test code (``python_iccv/main_test.py`` and
``routine/ImageSR.py`` of Wang et al.'s ICCV 2015 release) makes the LR image with MATLAB
``imresize`` on the *float* RGB HR (nothing rounded), takes its float Y, runs the network
and scores ``floor`` of the clipped output Y against ``floor`` of the HR's float Y (numpy's
``astype(uint8)``), shaving ``scale`` pixels.  If their table had been made that way and
ours the other, part of a gap to it would be protocol, not training; this prints the
three side by side (mean PSNR, dB):

* ``rgb``: our default protocol (uint8 RGB LR, rounded Y);
* ``y-float``: our ``--lr-mode y-float`` (float downscale of the rounded HR Y);
* ``authors``: the authors' code as described above.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import positive_ints  # noqa: E402

import superres  # noqa: E402
from superres.cli.common import add_data_dir, parse_list  # noqa: E402
from superres.data.datasets import benchmark_images  # noqa: E402
from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale  # noqa: E402
from superres.errors import OneLineParser, one_line_errors  # noqa: E402
from superres.evaluation.benchmark import evaluate_method, load_uint8  # noqa: E402
from superres.methods.base import SRMethod  # noqa: E402
from superres.ops.color import rgb_to_ycbcr_bt601  # noqa: E402


def _float_y(image: torch.Tensor) -> torch.Tensor:
    """Float Y of RGB in [0, 1]; a gray image is its own Y, as in the authors' code."""
    return image if image.shape[1] == 1 else rgb_to_ycbcr_bt601(image)[:, :1]


def authors_psnr(method: SRMethod, hr8: torch.Tensor, scale: int) -> float:
    """PSNR of ``method`` on one uint8 HR (RGB or gray) ``(1, 3, H, W)`` (modcropped) under the authors' code."""
    hr = hr8.to(torch.float64) / 255
    hr_y = _float_y(hr) * 255
    lr_y = _float_y(bicubic_downscale(hr, scale))  # float RGB LR, then its float Y
    with torch.inference_mode():
        sr_y = method.upscale(lr_y.to(torch.float32), scale).to(torch.float64).clamp(0, 1) * 255
    diff = (sr_y.floor() - hr_y.floor())[..., scale:-scale, scale:-scale]
    return 10 * math.log10(255**2 / diff.pow(2).mean().item())


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="cscn", help="a registered Y-channel method (default cscn)")
    parser.add_argument("--sets", type=parse_list, default=["Set5", "Set14", "BSD100"],
                        help="comma-separated benchmark sets")
    parser.add_argument("--scales", type=positive_ints, default=[2, 3, 4], help="comma-separated integer scales")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    method = superres.load_model(args.method)
    for scale in args.scales:  # before the work: the scales the method does, the sets that are there
        method.check_scale(scale)
        for dataset in args.sets:
            benchmark_images(dataset, scale, data_dir=args.data_dir)
    print(f"{args.method}: mean PSNR (dB) under three test protocols\n")
    print("| set | scale | rgb | y-float | authors | authors - y-float |")
    print("|---|---|---|---|---|---|")
    for dataset in args.sets:
        for scale in args.scales:
            ours = {mode: evaluate_method(method, dataset, scale, data_dir=args.data_dir, lr_mode=mode).mean_psnr
                    for mode in ("rgb", "y-float")}
            items = benchmark_images(dataset, scale, data_dir=args.data_dir)
            theirs = sum(authors_psnr(method, modcrop_to_scale(load_uint8(item.hr_path), scale), scale)
                         for item in items) / len(items)
            print(f"| {dataset} | x{scale} | {ours['rgb']:.2f} | {ours['y-float']:.2f} | {theirs:.2f} "
                  f"| {theirs - ours['y-float']:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

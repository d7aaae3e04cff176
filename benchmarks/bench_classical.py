"""Seconds per image of the classical methods (issue 9) on one Set14 image at x3.

    python benchmarks/bench_classical.py                      # all, Set14 img_002 (barbara, the largest)
    python benchmarks/bench_classical.py -m glasner,selfex -i img_001 --threads 2

The input is the protocol's LR (MATLAB bicubic of the modcropped HR), RGB, as
``superres evaluate`` feeds it; the time covers ``method.upscale`` (Y work and
bicubic CbCr), after one warm-up call on a small image.  ``freeman`` loads
its cached database on the warm-up call (build it first with
``python -m superres.methods.classical.freeman build``).  Target (issue 9):
under 30 s per image on the project's 2-core CPU.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import pick_image, positive_int  # noqa: E402

from superres.cli.common import add_data_dir, parse_list, parse_scale  # noqa: E402
from superres.data.datasets import benchmark_images  # noqa: E402
from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale  # noqa: E402
from superres.errors import OneLineParser, one_line_errors  # noqa: E402
from superres.evaluation.benchmark import load_uint8  # noqa: E402
from superres.evaluation.metrics import protocol_metrics  # noqa: E402
from superres.methods.registry import get_method  # noqa: E402

METHODS = ["bicubic", "ibp", "btv", "gpp", "freeman", "glasner", "selfex"]


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--methods", type=parse_list, default=METHODS)
    parser.add_argument("-i", "--image", default="img_002", help="Set14 image name (default img_002, 720 x 576 HR)")
    parser.add_argument("-s", "--scale", type=parse_scale, default=3)
    parser.add_argument("--threads", type=positive_int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=positive_int, default=1)
    add_data_dir(parser)
    args = parser.parse_args(argv)
    if not float(args.scale).is_integer():
        parser.error(f"argument -s/--scale: must be a whole number, got {args.scale:g}")
    args.scale = int(args.scale)
    methods = {name: get_method(name) for name in args.methods}  # unknown names fail before any work
    for method in methods.values():
        method.check_scale(args.scale)
    torch.set_num_threads(args.threads)
    item = pick_image(benchmark_images("Set14", args.scale, data_dir=args.data_dir), args.image, "Set14")
    hr = modcrop_to_scale(load_uint8(item.hr_path), args.scale)  # a no-op where the set has an x<scale> folder
    lr = bicubic_downscale(hr, args.scale).to(torch.float32) / 255
    print(f"Set14 {item.name} x{args.scale}: LR {lr.shape[-1]}x{lr.shape[-2]} -> HR {hr.shape[-1]}x{hr.shape[-2]}, "
          f"{args.threads} torch thread(s)")
    print(f"{'method':<10} {'s/image':>8} {'PSNR':>7}")
    for name, method in methods.items():
        with torch.inference_mode():
            method.upscale(lr[..., :24, :24], args.scale)  # warm-up (and freeman's database load)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                sr = method.upscale(lr, args.scale)
                times.append(time.perf_counter() - start)
        psnr = float(protocol_metrics(sr, hr, shave=args.scale)[0][0])
        print(f"{name:<10} {min(times):8.2f} {psnr:7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

import argparse
import time

import torch

from superres.data.datasets import benchmark_images
from superres.degradation.pipelines import bicubic_downscale
from superres.evaluation.benchmark import load_uint8
from superres.evaluation.metrics import protocol_metrics
from superres.methods.registry import get_method

METHODS = ["bicubic", "ibp", "btv", "gpp", "freeman", "glasner", "selfex"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--methods", default=",".join(METHODS))
    parser.add_argument("-i", "--image", default="img_002", help="Set14 image name (default img_002, 720 x 576 HR)")
    parser.add_argument("-s", "--scale", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    item = next(i for i in benchmark_images("Set14", args.scale, data_dir=args.data_dir) if i.name == args.image)
    hr = load_uint8(item.hr_path)
    lr = bicubic_downscale(hr, args.scale).to(torch.float32) / 255
    print(f"Set14 {item.name} x{args.scale}: LR {lr.shape[-1]}x{lr.shape[-2]} -> HR {hr.shape[-1]}x{hr.shape[-2]}, "
          f"{args.threads} torch thread(s)")
    print(f"{'method':<10} {'s/image':>8} {'PSNR':>7}")
    for name in args.methods.split(","):
        method = get_method(name)
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
    raise SystemExit(main())

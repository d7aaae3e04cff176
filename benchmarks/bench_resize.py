"""Time MATLAB-exact resize against Pillow's bicubic on a 2040x1356 RGB image, in one run.

    python benchmarks/bench_resize.py [--repeat 5]

Prints milliseconds per call and the ratio ours / Pillow for x1/4 and x4.
(Pillow is faster and *not* MATLAB-compatible; the ratio is the price of exactness.)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from PIL import Image

from superres.cli.common import positive_int
from superres.errors import OneLineParser, one_line_errors
from superres.ops.resize import imresize_matlab


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=positive_int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    # a smooth-plus-noise picture, 2040x1356 (DIV2K-like size)
    yy, xx = np.mgrid[0:1356, 0:2040]
    base = 127 + 100 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    pixels = np.clip(base[..., None] + rng.normal(0, 10, (1356, 2040, 3)), 0, 255).astype(np.uint8)
    pil = Image.fromarray(pixels)
    tensor = torch.from_numpy(pixels).permute(2, 0, 1)[None].contiguous()
    print(f"threads: {torch.get_num_threads()}")
    print(f"{'case':<28} {'ours ms':>9} {'Pillow ms':>10} {'ratio':>7}")
    for label, scale in (("2040x1356 RGB x1/4", 0.25), ("2040x1356 RGB x4", 4.0)):
        size = (int(np.ceil(2040 * scale)), int(np.ceil(1356 * scale)))
        ours = best_of(lambda: imresize_matlab(tensor, scale), args.repeat)
        theirs = best_of(lambda: pil.resize(size, Image.BICUBIC), args.repeat)
        print(f"{label + ' uint8':<28} {ours * 1e3:9.1f} {theirs * 1e3:10.1f} {ours / theirs:7.2f}")
        as_float = tensor.float() / 255
        ours_f = best_of(lambda: imresize_matlab(as_float, scale), args.repeat)
        print(f"{label + ' float32':<28} {ours_f * 1e3:9.1f} {theirs * 1e3:10.1f} {ours_f / theirs:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

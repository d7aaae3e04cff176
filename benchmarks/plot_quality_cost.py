"""Quality against cost for every shipped method: PSNR (from the weights cards, written by
`superres evaluate --write-card`) against multiply-adds per output pixel (counted from the
network) and against CPU milliseconds per output megapixel (measured in this run).

    python benchmarks/plot_quality_cost.py [--scale 2] [--dataset Set5] [--out docs/figures]

Bicubic's PSNR is measured here with `superres evaluate` (it has no card).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time  # noqa: E402

from superres.cli.common import add_data_dir, parse_scale  # noqa: E402
from superres.cli.models import collect_rows  # noqa: E402
from superres.data.datasets import benchmark_images  # noqa: E402
from superres.errors import OneLineParser, one_line_errors  # noqa: E402
from superres.evaluation.benchmark import evaluate  # noqa: E402
from superres.methods.registry import get_method  # noqa: E402
from superres.training.plots import script_pyplot  # noqa: E402


def ms_per_megapixel(name: str, scale: float, side: int = 128) -> float:
    method = get_method(name)
    lr = torch.rand(1, 3, side, side)
    with torch.inference_mode():
        seconds = best_time(lambda: method.upscale(lr, scale), 2)
    return seconds * 1e3 / ((side * scale) ** 2 / 1e6)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=parse_scale, default=2.0)
    parser.add_argument("--dataset", default="Set5")
    add_data_dir(parser)
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    benchmark_images(args.dataset, args.scale, data_dir=args.data_dir)  # before the timing: the set is there
    plt = script_pyplot()  # before the work: a missing matplotlib fails at once
    points = []
    for row in collect_rows():
        if row.get("scale") != args.scale or not row.get("macs_per_pixel") or args.dataset not in row.get("psnr", {}):
            continue
        points.append((row["method"], row["macs_per_pixel"], ms_per_megapixel(row["method"], args.scale), row["psnr"][args.dataset]))
    (bicubic,) = evaluate(["bicubic"], [args.dataset], [args.scale], data_dir=args.data_dir)
    points.append(("bicubic", 0.0, ms_per_megapixel("bicubic", args.scale), bicubic.mean_psnr))
    print(f"{'method':<16} {'MACs/px':>10} {'ms/MP':>9} {args.dataset + ' PSNR':>12}")
    for name, macs, ms, psnr in points:
        print(f"{name:<16} {macs:10.0f} {ms:9.1f} {psnr:12.2f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, macs, ms, psnr in points:
        axes[0].scatter(max(macs, 1.0), psnr)
        axes[0].annotate(name, (max(macs, 1.0), psnr), fontsize=8)
        axes[1].scatter(ms, psnr)
        axes[1].annotate(name, (ms, psnr), fontsize=8)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("multiply-adds per output pixel (bicubic drawn at 1)")
    axes[1].set_xscale("log")
    axes[1].set_xlabel(f"CPU ms per output megapixel ({torch.get_num_threads()} threads)")
    for ax in axes:
        ax.set_ylabel(f"{args.dataset} x{args.scale:g} PSNR (dB)")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"quality_cost_{args.dataset}_x{args.scale:g}.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

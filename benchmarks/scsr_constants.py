"""Yang's two reconstruction constants for ``scsr`` x4 with its own dictionary applied once.

    OMP_NUM_THREADS=1 python benchmarks/scsr_constants.py [--data-dir ../shared/data] [-o table.md]

Scores ``get_method("scsr", contrast=c, lam=l, cascade=False)`` on Set5 x4 under the protocol
(``evaluate_method``: LR by the project's MATLAB resize, Y, 4 pixels shaved) for the contrast
factor of the de-normalisation (1.0, 1.2, 1.5) and the lasso weight (0.1, 0.2); Yang's code
uses 1.2 and 0.2, the method's defaults. Prints a markdown table of the mean PSNR and SSIM.
"""

from __future__ import annotations

import sys

from _timing import emit_table, table_output

from superres.cli.common import add_data_dir
from superres.data.datasets import benchmark_images
from superres.errors import OneLineParser, one_line_errors
from superres.evaluation.benchmark import evaluate_method
from superres.methods.registry import get_method

CONTRASTS = (1.0, 1.2, 1.5)
LAMBDAS = (0.1, 0.2)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    add_data_dir(parser)
    parser.add_argument("-o", "--output", type=table_output, help="also write the table here")
    args = parser.parse_args(argv)
    benchmark_images("Set5", 4.0, data_dir=args.data_dir)  # a missing data folder fails before the work
    lines = ["scsr x4 (its own dictionary, applied once) on Set5, mean PSNR / SSIM", "",
             "| contrast | lam 0.1 | lam 0.2 |", "|---|---|---|"]
    for contrast in CONTRASTS:
        cells = []
        for lam in LAMBDAS:
            method = get_method("scsr", contrast=contrast, lam=lam, cascade=False)
            run = evaluate_method(method, "Set5", 4.0, data_dir=args.data_dir)
            cells.append(f"{run.mean_psnr:.2f} / {run.mean_ssim:.4f}")
            print(f"contrast {contrast:g}, lam {lam:g}: {cells[-1]}", file=sys.stderr, flush=True)
        lines.append(f"| {contrast:g} | " + " | ".join(cells) + " |")
    emit_table(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

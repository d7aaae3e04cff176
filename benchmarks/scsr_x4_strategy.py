"""How ``scsr`` should make x4: the x4 dictionary once, or the x2 dictionary twice (``cascade``).

    python benchmarks/scsr_x4_strategy.py [--data-dir ../shared/data] [--every 20] [-o table.md]

Measured on held-out images, not on the benchmark sets: every ``--every``-th image of
``train/BSD200`` (sorted by name; 10 images by default), which the T91 dictionaries never
saw and which look like BSD100.  The LR images are made as ``superres evaluate`` makes
them (MATLAB bicubic of the modcropped HR), and PSNR is the protocol's (Y, 4 pixels
shaved).  Prints a markdown table: strategy, mean PSNR, seconds.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _timing import emit_table, positive_int, table_output

from superres.cli.common import add_data_dir
from superres.data.datasets import find_data_dir, list_image_files
from superres.errors import DataNotFoundError, OneLineParser, one_line_errors
from superres.evaluation.benchmark import evaluate_method
from superres.methods.registry import get_method


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    add_data_dir(parser)
    parser.add_argument("--every", type=positive_int, default=20, help="take every N-th BSD200 image (default 20)")
    parser.add_argument("-o", "--output", type=table_output, help="also write the table here")
    args = parser.parse_args(argv)

    source = find_data_dir(args.data_dir) / "train" / "BSD200"
    if not source.is_dir():
        raise DataNotFoundError(f"no folder {str(source)!r}: the held-out images are train/BSD200 of the data")
    images = list_image_files(source)[:: args.every]
    if not images:
        raise DataNotFoundError(f"no images in {str(source)!r}")
    lines = [
        f"scsr x4 on {len(images)} held-out BSD200 images (every {args.every}th by name)",
        "",
        "| strategy | PSNR (dB) | seconds |",
        "|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for image in images:  # a folder of links is a data set for evaluate_method
            os.symlink(image.resolve(), Path(folder) / image.name)
        for label, cascade in (("x4 dictionary once", False), ("x2 dictionary twice (default)", True)):
            start = time.perf_counter()
            run = evaluate_method(get_method("scsr", cascade=cascade), folder, 4.0)
            lines.append(f"| {label} | {run.mean_psnr:.2f} | {time.perf_counter() - start:.0f} |")
            print(lines[-1], file=sys.stderr, flush=True)
    emit_table(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
